"""A test that hangs fails, with the stack of every asyncio task, instead of stalling the run.

One CI run stopped for good about a third of the way through and printed nothing about why.
Each phase of a test (setup, call, teardown) gets TEST_PHASE_LIMIT seconds (default 240; the
slowest test takes about a minute on MariaDB); past it the waiting coroutines are printed and
the phase fails, so the run goes on and says where it stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator

import pytest

LIMIT = int(os.environ.get("TEST_PHASE_LIMIT", "240"))


class PhaseHung(Exception):
    pass


def _dump_and_fail(signum, frame) -> None:
    sys.stderr.write(f"\n=== watchdog: a test phase ran past {LIMIT}s; where everything waits ===\n")
    traceback.print_stack(frame, file=sys.stderr)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    for task in asyncio.all_tasks(loop) if loop else ():
        sys.stderr.write(f"--- {task!r}\n")
        task.print_stack(file=sys.stderr)
    raise PhaseHung(f"this phase ran past {LIMIT}s (stacks above, on stderr)")


@contextlib.contextmanager
def _watched() -> Iterator[None]:
    """Arm the alarm for one phase; put back whatever handler was there after it."""
    if not hasattr(signal, "SIGALRM") or LIMIT <= 0:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _dump_and_fail)
    signal.alarm(LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _watched():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _watched():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    with _watched():
        yield
