from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class SimulatorConfig:
    apps: dict[str, str]  # appid -> secret, as registered with WeChat
    data_dir: Path  # where the simulator may keep files (reserved for later features)
    # The simulator's clock: tests pass a callable they move; None is the real UTC time.
    now: Callable[[], datetime] | None = None
