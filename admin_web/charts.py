"""Charts drawn on the server as inline SVG: no script, nothing fetched, readable on a tablet."""

from __future__ import annotations

from markupsafe import Markup, escape

from commerce.money import fen_to_yuan

WIDTH, HEIGHT, PAD = 720, 180, 24


def bar_chart(points: list[tuple[str, int]], *, label: str = "近 30 天成交额", money: bool = True) -> Markup:
    """One bar per (label, value in fen, or a count when not money); every fifth label shown."""
    top = max((value for _, value in points), default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(points), 1)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT + 20}" role="img" aria-label="{escape(label)}" class="chart">'
    ]
    for n, (name, value) in enumerate(points):
        height = (HEIGHT - PAD) * value / top
        x, y = PAD + n * step, HEIGHT - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" fill="#1a5fd0">'
            f"<title>{escape(name)}：{f'¥{fen_to_yuan(value)}' if money else value}</title></rect>"
        )
        if n % 5 == 4 or n == len(points) - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT + 14}" font-size="11" fill="#888">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
