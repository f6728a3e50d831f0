"""`shop simulator`: the WeChat simulator as a server of its own, which several workers in
simulator mode share (WECHAT_API_BASE) because the one each mounts keeps its login codes to
itself."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from tests.e2e.serving import SHOP, free_port, shop_env, wait_until


def _login_code(base: str) -> str | None:
    request = urllib.request.Request(
        f"{base}/wx/login-code", data=json.dumps({"user": "alice"}).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["code"]
    except OSError:
        return None


def test_the_simulator_serves_on_its_own_port(tmp_path):
    # given the simulator started on the shop's data folder
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "simulator.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [SHOP, "simulator", "--port", str(port)],
            env=shop_env(tmp_path / "var"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # then a phone gets login codes from it, at its root as from WeChat
            wait_until(lambda: _login_code(base) is not None, "no login code", log_path, process, 60)
            with urllib.request.urlopen(f"{base}/wx/state", timeout=5) as state:
                assert json.load(state)["calls"] is not None
        finally:
            process.terminate()
            process.wait(timeout=20)
    assert f"微信模拟器：{base}" in log_path.read_text()
