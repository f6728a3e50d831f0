"""The WeChat simulator as a server of its own, for benchmarks of several workers: the one
mounted in each `shop serve` worker keeps its state (login codes, tokens) in that worker's
memory, so the workers are pointed at this one instead (WECHAT_API_BASE), as at WeChat."""

import argparse

from aiohttp import web

from commerce.config import load_settings
from shop.app import simulator_config, with_simulated_merchant
from wechat_simulator import create_simulator_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = with_simulated_merchant(load_settings())  # the shop's data folder: same keys
    app = create_simulator_app(simulator_config(settings))
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
