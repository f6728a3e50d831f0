"""The yardstick: a bare aiohttp handler answering a small JSON body, nothing else."""

import argparse

from aiohttp import web


async def bare(request: web.Request) -> web.Response:
    return web.json_response({"items": [], "total": 0, "page": 1, "page_size": 20})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/bare", bare)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
