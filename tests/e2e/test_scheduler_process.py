"""`shop scheduler` as a process of its own, as the systemd unit and the compose service run
it: with `--port` it answers /healthz, /readyz (no search index to wait for) and /metrics, where
its job runs are counted; a port already taken stops its start; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import urllib.error
import urllib.request

from tests.e2e.serving import SHOP, free_port, shop, shop_env, wait_until


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
    except OSError:
        return 0, ""


def _runs(metrics: str, job: str) -> float:
    found = re.search(rf'^shop_job_runs_total\{{job="{job}"\}} (\S+)$', metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_the_scheduler_process_answers_health_and_metrics_and_stops_on_sigterm(tmp_path, shop_services):
    # given a migrated database and a scheduler process with its monitoring port
    env = shop_env(tmp_path / "var", shop_services)
    migrated = shop(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "scheduler.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [SHOP, "scheduler", "--port", port],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: _get(f"{base}/healthz")[0] == 200, "no /healthz", log_path, process, 60)
            # then it is ready without a search index
            status, body = _get(f"{base}/readyz")
            assert status == 200, body
            assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok", "migrations": "ok"}
            # and its metrics count the runs of the 2-second touch flush as they happen
            wait_until(
                lambda: _runs(_get(f"{base}/metrics")[1], "flush_referral_touches") >= 2,
                "no job runs in /metrics",
                log_path,
                process,
                30,
            )
            status, metrics = _get(f"{base}/metrics")
            assert status == 200 and "shop_outbox_pending" in metrics
            # and a second scheduler asked for the same port says so and runs nothing
            second = shop(env, "scheduler", "--port", port)
            assert second.returncode == 1 and f"监控端口 127.0.0.1:{port} 无法监听" in second.stderr
            # when it is stopped as systemd stops it
            process.send_signal(signal.SIGTERM)
            # then it exits cleanly, saying it waits for the jobs under way
            assert process.wait(timeout=30) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "正在停止" in log_path.read_text()
    assert _get(f"{base}/healthz")[0] == 0  # the port is closed
