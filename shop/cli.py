"""The `shop` command: serve, migrate, seed-demo, import-products, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from pathlib import Path

from commerce.config import ConfigurationError, Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except (ConfigurationError, ValueError) as exc:
        print(f"配置错误: {exc}", file=sys.stderr)
        return 2
    return args.run(settings, args) or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop", description="微信社交电商服务")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)

    sched = commands.add_parser("scheduler", help="run the scheduled jobs (beside `shop serve` processes)")
    sched.set_defaults(run=_scheduler)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(run=_migrate)

    seed = commands.add_parser("seed-demo", help="load the demo catalog")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no products")
    seed.set_defaults(run=_seed_demo)

    imp = commands.add_parser("import-products", help="import a catalog from CSV or .xlsx")
    imp.add_argument("file", type=Path)
    imp.set_defaults(run=_import_products)

    admin = commands.add_parser("create-admin", help="create a platform administrator")
    admin.add_argument("username")
    admin.add_argument("--password", help="prompted for when omitted")
    admin.set_defaults(run=_create_admin)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from shop.app import create_app
    from shop.observability import AccessLogger, configure_logging

    if "PUBLIC_BASE_URL" not in _environ() and (args.host, args.port) != ("127.0.0.1", 8080):
        # The simulator is reached through our own address: follow the flags.
        settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{args.port}"})
    configure_logging(settings.log_level)
    print(f"商城服务已启动: http://{args.host}:{args.port}  (WeChat: {settings.wechat_mode})")
    web.run_app(
        create_app(settings), host=args.host, port=args.port, print=None, access_log_class=AccessLogger
    )
    return 0


def _scheduler(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.core import open_core
    from scheduler import create_scheduler
    from shop.app import with_simulated_merchant
    from shop.observability import configure_logging

    configure_logging(settings.log_level)

    async def run() -> None:
        async with open_core(with_simulated_merchant(settings), build_search_index=False) as core:
            scheduler = create_scheduler(core)
            scheduler.start()
            print("定时任务已启动")
            try:
                await asyncio.Event().wait()  # until interrupted
            finally:
                scheduler.shutdown(wait=False)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.migrate import migrate_database

    asyncio.run(migrate_database(settings))
    print("数据库已是最新结构")
    return 0


def _seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.catalog.demo import seed_demo

    loaded = asyncio.run(seed_demo(settings, only_if_empty=args.if_empty))
    print(f"演示数据: 载入 {loaded} 个商品" if loaded else "已有商品，跳过演示数据")
    return 0


def _import_products(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.catalog.importer import CatalogFileError, import_catalog_file

    if not args.file.is_file():
        print(f"文件不存在: {args.file}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(import_catalog_file(settings, args.file, show_progress=sys.stderr.isatty()))
    except CatalogFileError as exc:
        print(f"无法导入: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    for problem in report.problems:
        print(f"  第 {problem.row} 行: {problem.reason}", file=sys.stderr)
    return 1 if report.problems and not report.loaded_rows else 0


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.errors import CommerceError
    from commerce.staff.services import create_platform_admin_cli

    password = args.password or getpass.getpass("密码: ")
    try:
        asyncio.run(create_platform_admin_cli(settings, username=args.username, password=password))
    except CommerceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"已创建平台管理员 {args.username}")
    return 0


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(main())
