"""Schemathesis throws generated requests at every documented endpoint: none may get a 500,
and every answer must match the OpenAPI document."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.e2e.serving import serving, shop, shop_env

ST = str(Path(sys.executable).parent / "st")


def _login(base: str) -> str:
    def post(url: str, body: dict) -> dict:
        request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    code = post(f"{base}/_sim/wx/login-code", {"user": "fuzzer"})["code"]
    return post(f"{base}/api/v1/auth/login", {"code": code})["token"]


def test_generated_requests_never_get_a_server_error(tmp_path, shop_services):
    env = shop_env(tmp_path / "var", shop_services)
    assert shop(env, "migrate").returncode == 0
    assert shop(env, "seed-demo").returncode == 0
    with serving(env) as base:
        token = _login(base)
        result = subprocess.run(
            [
                ST,
                "run",
                f"{base}/api/v1/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--exclude-path",
                "/api/v1/auth/logout",  # would end the fuzzer's own session
                "--max-examples",
                "40",
                "--header",
                f"Authorization: Bearer {token}",
                "--seed",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
