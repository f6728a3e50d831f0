"""`python -m bench --quick`: the whole benchmark suite runs and prints the README's table.

A smoke test of the suite's shape, not of the figures (a shared machine's rates mean nothing
here): every benchmark has its row, every number parses, and no ratio to the bare handler is
absurd. SQLite and the embedded Redis stand-in, one worker, small sizes: about a minute and a half.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTTP_ROWS = [
    "catalog: GET /products (list)",
    "catalog: GET /products/{id}",
    "catalog: search (?q=)",
    "bot: search messages",
    "admin: ",
    "orders: preview + create",
    "拼团: joins",
    "KOL: touches recorded",
    "search: 2,000 SKUs",
]
FIGURES = ["ledger", "statements", "leader commissions", "KOL funnel", "search quality"]


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_quick_suite_prints_every_benchmark_in_one_table():
    # given the embedded default services (no database or Redis URL from the test run)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    # when the suite runs at its smallest sizes with one worker
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--workers", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    # then the header names the date, the machine and the services
    header = out.splitlines()[0]
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Asia/Shanghai\)", header), header
    assert "cores, Python 3." in header and "database SQLite" in header and "Redis embedded" in header
    # and every HTTP benchmark has one row whose numbers parse, with a sane ratio and no errors
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| ")]
    http = [[cell.strip() for cell in row] for row in rows if len(row) == 9 and row[0].strip() != "benchmark"]
    for name in HTTP_ROWS:
        matching = [row for row in http if row[0].startswith(name)]
        assert len(matching) == 1, (name, out)
        benchmark, workers, rate, p50, p99, bare, ratio, rss, errors = matching[0]
        assert workers == "1"
        assert number(rate) > 0 and number(bare) > 0 and 0 < number(p50) <= number(p99)
        assert 0 < number(ratio) < 1.5, matching[0]
        assert number(rss) > 10, "a worker's resident memory, in MiB"
        assert errors == "0", matching[0]
    assert len(http) == len(HTTP_ROWS)
    # and the figures measured in-process follow in a second table
    figures = [
        [cell.strip() for cell in row] for row in rows if len(row) == 3 and row[0].strip() != "benchmark"
    ]
    for name in FIGURES:
        assert any(row[0] == name for row in figures), (name, out)
    for benchmark, figure, value in figures:
        assert number(value) >= 0, (benchmark, figure)
    assert any(row[0] == "search quality" and number(row[2]) > 50 for row in figures)
