"""The deploy/ folder: its files are checked by the tools that will read them (nginx -t,
systemd-analyze verify, docker compose config, through deploy/check), and against the app
they deploy (settings, routes, limits, packages)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from aiohttp import web

from admin_web import support_live
from commerce.config import ConfigurationError, Settings, load_settings
from commerce.db import tortoise_config
from commerce.proxies import client_address, forwarded_https
from shop.app import create_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# CI installs nginx and docker-compose (.ci/run); there a missing tool is a failure, not a skip.
IN_CI = bool(os.environ.get("TEST_REQUIRE_SERVICES"))
# Settings the other parts of issue 15 add (metrics, JSON logs, the workers' drain time);
# listed in the example already.
SETTINGS_ADDED_ELSEWHERE = {"METRICS_TOKEN", "METRICS_ALLOW", "LOG_FORMAT", "SHUTDOWN_GRACE_SECONDS"}


def run_check(name: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(DEPLOY / "check"), name], capture_output=True, text=True, timeout=120)


def require_tool(tool: str, why: str) -> None:
    if shutil.which(tool) is None:
        if IN_CI:
            pytest.fail(f"{tool} is missing in CI ({why})")
        pytest.skip(f"{tool} is not installed here: {why}")


def test_the_nginx_site_passes_nginx_t():
    require_tool("nginx", "apt-get install nginx")
    done = run_check("nginx")
    assert done.returncode == 0 and "ok nginx" in done.stdout, done.stdout + done.stderr


def test_the_systemd_units_pass_systemd_analyze_verify():
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is part of this machine's image and should be here")
    done = run_check("systemd")
    assert done.returncode == 0 and "ok systemd" in done.stdout, done.stdout + done.stderr


def test_the_compose_file_passes_compose_config():
    v2 = (
        bool(shutil.which("docker"))
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    )
    if not v2:
        require_tool("docker-compose", "apt-get install docker-compose (its v1 client validates the file)")
    done = run_check("compose")
    assert done.returncode == 0 and "ok compose" in done.stdout, done.stdout + done.stderr


def test_the_image_builds():
    info = subprocess.run(["docker", "info"], capture_output=True) if shutil.which("docker") else None
    if info is None or info.returncode != 0:
        pytest.skip(
            "no Docker engine on this machine: `docker build` and `docker compose up` cannot run here"
        )
    built = subprocess.run(
        ["docker", "build", "-f", "deploy/Dockerfile", "-t", "wechat-shop:test", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert built.returncode == 0, built.stderr[-3000:]


def example_settings() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "shop.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def filled_in(values: dict[str, str]) -> dict[str, str]:
    """The example as an operator fills it in: each placeholder replaced by a real value."""
    filled = dict(values)
    for key, value in values.items():
        if "请替换" in value:
            filled[key] = (
                secrets.token_hex(16) if key == "WECHAT_PAY_APIV3_KEY" else secrets.token_urlsafe(48)
            )
    return filled


def test_every_line_of_the_env_example_is_a_setting_of_the_app():
    known = {name.upper() for name in Settings.model_fields} | SETTINGS_ADDED_ELSEWHERE
    assert set(example_settings()) - known == set()


def test_the_env_example_filled_in_is_a_working_live_configuration_and_each_required_line_matters():
    # given the example with its placeholders filled in
    values = filled_in(example_settings())
    # then the app takes it in live mode (Settings refuses live settings that are missing or unsafe)
    settings = load_settings(**{k.lower(): v for k, v in values.items() if k not in SETTINGS_ADDED_ELSEWHERE})
    assert settings.wechat_mode == "live" and not settings.scheduler_in_process
    # and without any one of the lines live mode needs, it is refused, naming that line
    for required in (
        "SECRET_KEY",
        "REDIS_URL",
        "WECHAT_PAY_APIV3_KEY",
        "WECHAT_MINIAPP_APPID",
        "WECHAT_PAY_PRIVATE_KEY_PATH",
        "WECHAT_PAY_PUBLIC_KEY_PATH",
        "PUBLIC_BASE_URL",
    ):
        partial = {
            k.lower(): v for k, v in values.items() if k != required and k not in SETTINGS_ADDED_ELSEWHERE
        }
        with pytest.raises(ConfigurationError, match=required):
            Settings(**partial)


def test_nginx_lets_through_what_the_app_accepts_and_unbuffers_the_inbox_streams(tmp_path):
    site = (DEPLOY / "nginx" / "shop.conf").read_text(encoding="utf-8")
    # the body limit is the app's own (admin catalog files and images)
    app = create_app(load_settings(shop_data_dir=tmp_path))
    limit = re.search(r"client_max_body_size (\d+)m;", site)
    assert limit and int(limit.group(1)) * 1024**2 == app._client_max_size
    # every live stream of the admin inbox falls in the location that turns buffering off
    router = web.UrlDispatcher()
    support_live.add_routes(router)
    streams = ["/admin" + r.canonical.replace("{id}", "42") for r in router.resources()]
    sse = re.search(r"location ~ (\S+) \{(.*?)\}", site, re.S)
    assert sse and streams and all(re.match(sse.group(1), path) for path in streams)
    assert "proxy_buffering off;" in sse.group(2) and "gzip off;" in sse.group(2)
    # the forwarded headers the app reads from TRUSTED_PROXIES are set, and /metrics is not public
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP"):
        assert f"proxy_set_header {header} " in site
    assert re.search(r"location = /metrics \{\s*return 404;", site)


def test_the_units_run_the_scheduler_apart_and_migrate_before_the_workers():
    units = {p.name: p.read_text(encoding="utf-8") for p in (DEPLOY / "systemd").glob("*.service")}
    assert "ExecStart=/opt/shop/venv/bin/shop scheduler --port 9101" in units["shop-scheduler.service"]
    assert "Type=oneshot" in units["shop-migrate.service"] and "shop migrate" in units["shop-migrate.service"]
    for worker in ("shop.service", "shop-scheduler.service"):
        assert "Requires=shop-migrate.service" in units[worker]
        assert re.search(r"^After=.*shop-migrate\.service", units[worker], re.M)
        assert "User=shop" in units[worker] and "EnvironmentFile=/etc/shop/shop.env" in units[worker]
    assert example_settings()["SCHEDULER_IN_PROCESS"] == "false"


def test_the_image_copies_every_package_the_project_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (DEPLOY / "Dockerfile").read_text(), re.M))
    assert packages == copied
    assert "pip install ." in (DEPLOY / "Dockerfile").read_text()


def test_database_pool_max_sizes_each_process_s_mysql_pool():
    # given the pool size the README's sizing picks for each worker
    settings = load_settings(database_pool_max=7, database_url="mysql://shop:pw@db:3306/shop")
    # then the MySQL connection is configured with it (a maxsize written in the URL still wins)
    config = tortoise_config(settings.database_url, pool_max=settings.database_pool_max)
    assert config["connections"]["default"]["credentials"]["maxsize"] == 7
    in_url = tortoise_config("mysql://shop:pw@db:3306/shop?maxsize=3", pool_max=7)
    assert in_url["connections"]["default"]["credentials"]["maxsize"] == 3


def test_the_dockerfile_s_install_step_builds_the_whole_service_from_what_it_copies():
    # no Docker engine here: pip builds the wheel from exactly the files the COPY lines bring
    done = run_check("dockerfile")
    assert done.returncode == 0 and "ok dockerfile" in done.stdout, done.stdout + done.stderr


def test_systemd_and_compose_wait_longer_than_the_workers_drain():
    grace = float(example_settings()["SHUTDOWN_GRACE_SECONDS"])
    for unit in ("shop.service", "shop-scheduler.service"):
        text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
        stop = re.search(r"^TimeoutStopSec=(\d+)s$", text, re.M)
        assert stop and int(stop.group(1)) >= grace + 10, unit
    compose = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    periods = [int(p) for p in re.findall(r"stop_grace_period: (\d+)s", compose)]
    assert len(periods) == 2 and min(periods) >= grace + 10


def test_behind_the_nginx_site_the_app_sees_the_real_client_not_a_forged_one():
    # given nginx as the site configures it: the client's own X-Forwarded-For (forged) with the
    # address nginx saw appended ($proxy_add_x_forwarded_for), sent from 127.0.0.1
    site = (DEPLOY / "nginx" / "shop.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    trusted = example_settings()["TRUSTED_PROXIES"]
    # then the app, trusting the proxies the env example names, takes the address nginx saw
    seen = client_address(peer="127.0.0.1", forwarded_for="10.9.9.9, 203.0.113.7", trusted_proxies=trusted)
    assert seen == "203.0.113.7"
    assert forwarded_https(peer="127.0.0.1", forwarded_proto="https", trusted_proxies=trusted)
    # and a client reaching the workers directly cannot claim an address or HTTPS
    assert (
        client_address(peer="198.51.100.4", forwarded_for="10.9.9.9", trusted_proxies=trusted)
        == "198.51.100.4"
    )
    assert not forwarded_https(peer="198.51.100.4", forwarded_proto="https", trusted_proxies=trusted)
