"""Money is integer fen, and nothing else: parsing, formatting and fair splitting."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

Fen = int

MAX_FEN = 10**12  # ten billion yuan: far beyond any single price; guards against typos


class MoneyFormatError(ValueError):
    """A yuan amount that is not a plain non-negative number with at most two decimals."""


def yuan_to_fen(text: str | int | Decimal) -> Fen:
    """Parse a yuan amount such as "5999.00" or "12.5" into fen, exactly (no floats)."""
    try:
        amount = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise MoneyFormatError(f"not an amount: {text!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise MoneyFormatError(f"not a non-negative amount: {text!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise MoneyFormatError(f"more than two decimals: {text!r}")
    if fen > MAX_FEN:
        raise MoneyFormatError(f"amount too large: {text!r}")
    return int(fen)


def fen_to_yuan(fen: Fen) -> str:
    """Format fen as yuan with two decimals: 599900 -> "5999.00"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def split_largest_remainder(total: Fen, weights: list[int]) -> list[Fen]:
    """Split total in proportion to weights so that the parts add up to total exactly."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError("weights must add up to a positive number")
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        shares[i] += 1
    return shares
