"""STUB: the WeChat simulator (being written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web


@dataclass(frozen=True)
class SimulatorConfig:
    apps: dict[str, str]  # appid -> secret
    data_dir: Path


def create_simulator_app(config: SimulatorConfig) -> web.Application:
    return web.Application()
