"""The reversal rule of a leader's commission, without a database: however a line is refunded
in parts, the parts' reversals are never negative and add up to exactly what it accrued."""

from __future__ import annotations

import random

from commerce.commission_lines import reversed_share
from commerce.ledger.queries import round_half_up


def _reversals(amount: int, basis: int, parts: list[int]) -> list[int]:
    done, refunded, out = 0, 0, []
    for part in parts:
        refunded += part
        now = reversed_share(amount, basis, refunded)
        out.append(now - done)
        done = now
    return out


def test_the_three_part_refund_of_the_issue_reverses_11_45_44():
    # 3000 at 3.33%: 99.9 → 100; refunded 333, 1333, 1334
    assert _reversals(100, 3000, [333, 1333, 1334]) == [11, 45, 44]


def test_any_split_of_a_line_reverses_exactly_what_it_accrued():
    rng = random.Random(13)
    for _ in range(2000):
        basis = rng.randint(1, 200_000)
        rate = rng.randint(0, 10_000)
        amount = round_half_up(basis * rate, 10_000)
        cuts = sorted(rng.sample(range(1, basis), min(rng.randint(0, 6), basis - 1))) if basis > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, basis], strict=True)]
        reversals = _reversals(amount, basis, parts)
        assert sum(reversals) == amount, (basis, rate, parts)
        assert all(r >= 0 for r in reversals), (basis, rate, parts)


def test_a_partial_refund_reverses_its_share_rounded_half_up():
    assert reversed_share(100, 3000, 0) == 0
    assert reversed_share(100, 3000, 45) == 2  # 1.5 → 2
    assert reversed_share(100, 3000, 15) == 1  # 0.5 → 1
    assert reversed_share(180, 1800, 900) == 90
    assert reversed_share(60, 1800, 1800) == 60
