from aiohttp import web

from wechat_simulator.state import SimulatorState

STATE = web.AppKey("simulator_state", SimulatorState)
