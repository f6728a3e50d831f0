from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SimulatorConfig:
    apps: dict[str, str]  # appid -> secret, as registered with WeChat
    data_dir: Path
    now: Callable[[], datetime] = field(default=_utc_now)  # tests pass a clock they move
