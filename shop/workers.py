"""`shop serve --workers N`: a supervisor and N worker processes sharing one port.

Each worker is a plain `shop serve` in a process of its own. Where the platform has
SO_REUSEPORT (Linux, the BSDs, macOS) every worker binds the port itself and the kernel spreads
new connections over them; elsewhere, or with `--share-socket`, the supervisor binds one
listening socket and hands it to the workers, which all accept on it.

The supervisor restarts a worker that dies (waiting longer after each quick death, so a worker
that cannot start does not spin). SIGTERM (or SIGINT) drains: it is forwarded once to every
worker, which stops accepting, gives in-flight requests and their outbox deliveries
SHUTDOWN_GRACE_SECONDS, runs its cleanup (outbox relay, buffered touches, pools) and exits; the
supervisor exits when they all have (killing any still there a few seconds after the grace).

Scheduled jobs need no election here: each worker runs the in-process scheduler, and every job
claims its period in the shared Redis first (scheduler.runner), so a job runs once per period
across all workers and machines, and survives the death of any one worker.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from commerce.config import Settings
from shop import metrics
from shop.metrics import default_multiprocess_dir

log = logging.getLogger(__name__)

QUICK_DEATH_SECONDS = 10.0  # a worker that dies sooner counts towards the backoff
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
KILL_AFTER_GRACE_SECONDS = 5.0  # past the grace: whatever is still running is killed
POLL_SECONDS = 0.1

REFUSAL = (
    "多个工作进程需要共享的 Redis：请设置 REDIS_URL（内置的 Redis 替身只在单个进程内有效）。\n"
    "--workers > 1 needs a shared Redis: set REDIS_URL (the embedded stand-in lives inside one "
    "process and cannot be shared)."
)


def refusal(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run this many workers, or None."""
    if workers > 1 and not settings.redis_url:
        return REFUSAL
    return None


def has_reuse_port() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def metrics_dir(settings: Settings, workers: int) -> Path | None:
    """The folder of prometheus_client's multi-process mode, created empty: the one named by
    PROMETHEUS_MULTIPROC_DIR, else `<data dir>/prometheus` when there are several workers. Its
    files are per process and must not outlive a run (stale counters would be added in)."""
    named = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not named and workers <= 1:
        return None
    folder = Path(named) if named else default_multiprocess_dir(settings)
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700, parents=True)
    return folder


@dataclass
class _Worker:
    slot: int
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0  # in a row: the backoff grows with them
    start_at: float = 0.0  # when to (re)start it


@dataclass
class Supervisor:
    """Keeps `count` workers running until told to stop; `command` starts one."""

    command: list[str]
    count: int
    grace_seconds: float
    env: dict[str, str]
    pass_fds: tuple[int, ...] = ()
    workers: list[_Worker] = field(init=False)
    _stop_signal: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.workers = [_Worker(slot) for slot in range(1, self.count + 1)]

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        while self._stop_signal is None:
            now = time.monotonic()
            for worker in self.workers:
                if worker.process is not None and worker.process.poll() is not None:
                    self._exited(worker, now)
                if worker.process is None and now >= worker.start_at:
                    self._start(worker)
            time.sleep(POLL_SECONDS)
        return self._drain()

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stop_signal = signum

    def _start(self, worker: _Worker) -> None:
        # A process group of its own: a Ctrl-C in the terminal reaches the supervisor only,
        # which forwards one SIGTERM (a second one would cut the worker's drain short).
        worker.process = subprocess.Popen(self.command, env=self.env, pass_fds=self.pass_fds, process_group=0)
        worker.started_at = time.monotonic()
        log.info("worker %s started (pid %s)", worker.slot, worker.process.pid)

    def _exited(self, worker: _Worker, now: float) -> None:
        process = worker.process
        assert process is not None
        worker.process = None
        _forget_metrics_of(process.pid)
        if now - worker.started_at < QUICK_DEATH_SECONDS:
            worker.quick_deaths += 1
        else:
            worker.quick_deaths = 0
        delay = (
            min(FIRST_BACKOFF_SECONDS * 2 ** (worker.quick_deaths - 1), MAX_BACKOFF_SECONDS)
            if worker.quick_deaths
            else 0.0
        )
        worker.start_at = now + delay
        log.warning(
            "工作进程 #%s (pid %s) 意外退出（%s），%.0f 秒后重启 / worker exited unexpectedly, restarting",
            worker.slot,
            process.pid,
            _how(process.returncode),
            delay,
        )

    def _drain(self) -> int:
        running = [w.process for w in self.workers if w.process is not None and w.process.poll() is None]
        log.warning("正在停止 %s 个工作进程 / draining workers", len(running))
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds + KILL_AFTER_GRACE_SECONDS
        while any(p.poll() is None for p in running) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        clean = True
        for process in running:
            if process.poll() is None:
                clean = False
                process.kill()
                process.wait()
            _forget_metrics_of(process.pid)
        return 0 if clean else 1


def serve_workers(
    settings: Settings, *, host: str, port: int, workers: int, share_socket: bool = False
) -> int:
    """Run `workers` copies of `shop serve` on host:port until SIGTERM; the exit status."""
    env = dict(os.environ)
    folder = metrics_dir(settings, workers)
    if folder is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # for worker_exited, here
    command = [sys.executable, "-m", "shop.cli", "serve", "--host", host, "--port", str(port)]
    command += ["--supervisor-pid", str(os.getpid())]
    pass_fds: tuple[int, ...] = ()
    listener = None
    if share_socket or not has_reuse_port():
        listener = _listen(host, port)
        pass_fds = (listener.fileno(),)
        command += ["--worker-fd", str(listener.fileno())]
        how = "shared socket"
    else:
        command += ["--worker-reuse-port"]
        how = "SO_REUSEPORT"
    if not settings.database_url:
        log.warning(
            "注意：多个工作进程共用 SQLite 时写入会互相等待；正式运行请用 MySQL / "
            "workers on SQLite wait for each other's writes; use MySQL in production"
        )
    log.warning("%s 个工作进程共享端口 %s（%s）/ workers sharing the port", workers, port, how)
    supervisor = Supervisor(
        command=command,
        count=workers,
        grace_seconds=settings.shutdown_grace_seconds,
        env=env,
        pass_fds=pass_fds,
    )
    try:
        return supervisor.run()
    finally:
        if listener is not None:
            listener.close()


def _listen(host: str, port: int) -> socket.socket:
    """The one listening socket the workers share where SO_REUSEPORT is missing."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


def inherited_socket(fd: int) -> socket.socket:
    return socket.socket(fileno=fd)


def watch_supervisor(app: web.Application, supervisor_pid: int) -> None:
    """Drain and exit when the supervisor is gone (killed outright, it cannot forward SIGTERM):
    a worker never outlives it as an orphan holding the port."""

    async def watch(app: web.Application) -> AsyncIterator[None]:
        import asyncio

        async def poll() -> None:
            # No event to wait for: the kernel just re-parents an orphan.
            while os.getppid() == supervisor_pid:  # noqa: ASYNC110
                await asyncio.sleep(1)
            log.warning("supervisor %s is gone: draining", supervisor_pid)
            os.kill(os.getpid(), signal.SIGTERM)

        task = asyncio.create_task(poll())
        yield
        task.cancel()

    app.cleanup_ctx.append(watch)


def drain_on_first_signal(app: web.Application) -> None:
    """SIGTERM or SIGINT start the drain once; later ones are ignored. (aiohttp's own handler
    raises at every signal, and a second one in the middle of the drain would cut it short:
    systemd's default KillMode=control-group signals every process of the service, workers
    included, besides the supervisor's own forwarding.) Use with run_app(handle_signals=False)."""

    async def install(app: web.Application) -> None:
        import asyncio

        draining = False

        def drain() -> None:
            nonlocal draining
            if draining:
                return
            draining = True
            raise web.GracefulExit()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, drain)

    app.on_startup.append(install)


def _forget_metrics_of(pid: int) -> None:
    """Tell the metrics that a worker is gone, so its live gauges stop counting."""
    try:
        metrics.worker_exited(pid)
    except Exception:  # the metrics must never stop the supervisor
        log.exception("metrics: worker_exited(%s) failed", pid)


def _how(returncode: int) -> str:
    if returncode < 0:
        return f"signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"
