"""A faithful stand-in for the WeChat servers we call, with WeChat's rules and refusals.

Mounted under /_sim by `shop serve` in simulator mode; tests run it as a server of its own.
It knows nothing of the shop: only what WeChat would know.
"""

from wechat_simulator.app import create_simulator_app
from wechat_simulator.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_simulator_app"]
