"""The multi-process contract between `shop serve --workers N`'s supervisor and /metrics.

One process: nothing to do; /metrics (shop.monitoring) shows the default registry.

Several workers: prometheus_client's multi-process mode. Each worker writes its samples to
memory-mapped files in PROMETHEUS_MULTIPROC_DIR, and whichever worker answers a scrape sums
every worker's files (per-worker ports are not needed: one scrape of the shared port sees
them all). The supervisor, before it starts or forks any worker, and before it imports the
app (prometheus_client picks in-memory or file-backed values when first imported, and a forked
worker keeps its parent's choice):
  - calls `prepare_multiprocess_dir(path)` (by default `default_multiprocess_dir(settings)`,
    under the data folder): the folder is created and emptied and the variable set, so every
    worker started afterwards inherits it;
  - calls `worker_exited(pid)` when a worker exits (and before it starts its replacement), so
    the dead worker's live gauges leave the sum. Its counters and histograms stay in it: they
    are totals, and a counter must not go down.
This module imports prometheus_client only inside its functions, so importing it first is safe.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from commerce.config import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def default_multiprocess_dir(settings: Settings) -> Path:
    return settings.data_dir / "prometheus"


def prepare_multiprocess_dir(path: Path) -> None:
    """An empty folder for the workers' sample files, named in PROMETHEUS_MULTIPROC_DIR for
    the workers to inherit. Refuses if prometheus_client already chose in-memory values in
    this process (the app was imported first): forked workers would count in memory only."""
    values = sys.modules.get("prometheus_client.values")
    if values is not None and values.ValueClass is values.MutexValue:
        raise RuntimeError(
            "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set: "
            "call prepare_multiprocess_dir before importing the app"
        )
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's counts would be added to this run's
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)


def worker_exited(pid: int) -> None:
    """A worker is gone: its live gauges (the pool in use) leave the sum."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))
