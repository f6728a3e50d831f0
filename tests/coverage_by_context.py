"""Branch coverage per context at the end of the run, and a floor for the contexts that move
money or let staff in (pytest hooks, imported by tests/conftest.py).

Active when the run writes coverage's JSON report (`make test`: `--cov --cov-report=json:…`);
the floor applies when COVERAGE_FLOOR is set (`make test` sets it for the whole suite only).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

# The contexts held to the floor, by the files that make them up.
GUARDED = {
    "payments": ("commerce/payments/",),
    "orders": ("commerce/orders/",),
    "after-sales": ("commerce/aftersales/", "commerce/payments/review.py"),
    "staff auth": ("commerce/staff/", "admin_web/signin.py", "admin_web/security.py"),
}
_summary: list[str] = []


def context_of(path: str) -> str:
    """`commerce/orders/services.py` → `commerce/orders`; an edge counts as one context."""
    parts = Path(path).parts
    return "/".join(parts[:2]) if parts[0] == "commerce" and len(parts) > 2 else parts[0]


def branch_share(files: dict[str, dict], prefixes: tuple[str, ...] | None = None) -> float:
    covered = total = 0
    for path, data in files.items():
        if prefixes is None or path.startswith(prefixes):
            covered += data["summary"]["covered_branches"]
            total += data["summary"]["num_branches"]
    return 100.0 * covered / total if total else 100.0


def _json_report(config: pytest.Config) -> Path | None:
    reports = getattr(config.option, "cov_report", None) or {}
    return Path(reports["json"]) if reports.get("json") else None


@pytest.hookimpl(trylast=True)  # after pytest-cov has written its report
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = _json_report(session.config)
    if path is None or not path.exists():
        return
    files = json.loads(path.read_text())["files"]
    by_context: dict[str, dict[str, dict]] = defaultdict(dict)
    for name, data in files.items():
        by_context[context_of(name)][name] = data
    _summary.append("Branch coverage by context:")
    _summary.extend(f"  {name:<22} {branch_share(by_context[name]):5.1f}%" for name in sorted(by_context))
    _summary.append(f"  {'all':<22} {branch_share(files):5.1f}%")
    floor = float(os.environ.get("COVERAGE_FLOOR") or 0)
    for name, prefixes in GUARDED.items():
        share = branch_share(files, prefixes)
        short = floor and share < floor
        below = f"  below the floor of {floor:.0f}%" if short else ""
        _summary.append(f"  guarded {name:<14} {share:5.1f}%{below}")
        if short and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    for line in _summary:
        terminalreporter.write_line(line)
