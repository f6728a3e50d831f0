"""The `shop` command: serve, scheduler, migrate, seed-demo, import-products, create-admin, wechat,
reconcile, export, import."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import signal
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
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes sharing the port (over 1 needs REDIS_URL)"
    )
    serve.add_argument(
        "--share-socket",
        action="store_true",
        help="hand the workers one listening socket instead of SO_REUSEPORT (used where that is missing)",
    )
    # Set by the supervisor on the `shop serve` it starts as a worker (shop/workers.py).
    serve.add_argument("--supervisor-pid", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--worker-reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--worker-fd", type=int, help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    sched = commands.add_parser("scheduler", help="run the scheduled jobs (beside `shop serve` processes)")
    sched.add_argument("--host", default="127.0.0.1", help="the address of --port")
    sched.add_argument(
        "--port", type=int, default=0, help="answer /healthz, /readyz and /metrics on this port (0: none)"
    )
    sched.set_defaults(run=_scheduler)

    sim = commands.add_parser(
        "simulator", help="the WeChat simulator as a server of its own (several workers in simulator mode)"
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8081)
    sim.set_defaults(run=_simulator)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(run=_migrate)

    seed = commands.add_parser("seed-demo", help="load the demo catalog")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no products")
    seed.set_defaults(run=_seed_demo)

    imp = commands.add_parser("import-products", help="import a catalog from CSV or .xlsx")
    imp.add_argument("file", type=Path)
    imp.set_defaults(run=_import_products)

    admin = commands.add_parser("create-admin", help="create a platform account (an admin by default)")
    admin.add_argument("username")
    admin.add_argument("--password", help="prompted for when omitted")
    admin.add_argument("--role", choices=PLATFORM_ROLE_NAMES, default="platform_admin")
    admin.add_argument("--display-name", default="", help="how colleagues know them, e.g. 客服小王")
    admin.set_defaults(run=_create_admin)
    wechat = commands.add_parser("wechat", help="the official account: menu, QR codes")
    wechat_commands = wechat.add_subparsers(required=True, metavar="WHAT")
    menu = wechat_commands.add_parser("menu", help="the custom menu")
    menu_commands = menu.add_subparsers(required=True, metavar="ACTION")
    push = menu_commands.add_parser("push", help="push the menu defined in a JSON file to WeChat")
    push.add_argument("--file", type=Path, default=MENU_FILE, help=f"default: {MENU_FILE.name}")
    push.set_defaults(run=_push_menu)
    qrcode = wechat_commands.add_parser("qrcode", help="a parametric QR code for a scene")
    qrcode.add_argument("scene", help="1-64 characters, e.g. leader:42")
    qrcode.add_argument("--days", type=int, help="temporary, 1-30 days; permanent when omitted")
    qrcode.set_defaults(run=_qrcode)
    reconcile = commands.add_parser("reconcile", help="reconcile a day with WeChat Pay's bills")
    reconcile.add_argument("--date", required=True, help="the bill date, YYYY-MM-DD (Asia/Shanghai)")
    reconcile.add_argument("--again", action="store_true", help="run a day reconciled before again")
    reconcile.set_defaults(run=_reconcile)
    export = commands.add_parser("export", help="write every table's rows to a JSON-lines file")
    export.add_argument("file", type=Path)
    export.set_defaults(run=_export)
    load = commands.add_parser("import", help="load a `shop export` file into a new, migrated database")
    load.add_argument("file", type=Path)
    load.set_defaults(run=_import)
    return parser


MENU_FILE = Path(__file__).with_name("wechat_menu.json")


def _push_menu(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.core import open_core
    from commerce.errors import CommerceError
    from commerce.wechat.official_account import load_menu, push_menu
    from shop.app import with_simulated_merchant
    from shop.subscriptions import subscribers

    try:
        menu = load_menu(args.file, settings=settings)
    except CommerceError as exc:
        print(exc.message, file=sys.stderr)
        return 2

    async def run() -> None:
        async with open_core(
            with_simulated_merchant(settings), subscribers, build_search_index=False
        ) as core:
            await push_menu(menu, mp=core.mp)

    try:
        asyncio.run(run())
    except CommerceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"菜单已推送：{len(menu['button'])} 个一级菜单")
    return 0


def _qrcode(settings: Settings, args: argparse.Namespace) -> int:
    from commerce import clock
    from commerce.core import open_core
    from commerce.errors import CommerceError
    from commerce.wechat.official_account import create_scene_qrcode
    from shop.app import with_simulated_merchant
    from shop.subscriptions import subscribers

    async def run():
        async with open_core(
            with_simulated_merchant(settings), subscribers, build_search_index=False
        ) as core:
            return await create_scene_qrcode(mp=core.mp, scene=args.scene, days=args.days)

    try:
        code = asyncio.run(run())
    except CommerceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(code.image_url)
    until = code.expires_at and clock.to_shanghai(code.expires_at).strftime("%Y-%m-%d %H:%M")
    print(f"场景 {code.scene}，" + (f"有效期至 {until}（北京时间）" if until else "永久有效"))
    return 0


def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from commerce import clock
    from commerce.core import open_core
    from commerce.errors import CommerceError
    from commerce.money import fen_to_yuan
    from commerce.reconciliation import services
    from shop.app import with_simulated_merchant
    from shop.subscriptions import subscribers

    async def run() -> services.RunResult:
        today = clock.to_shanghai(clock.now()).date()
        day = services.checked_date(args.date, latest=today)
        async with open_core(
            with_simulated_merchant(settings), subscribers, build_search_index=False
        ) as core:
            return await services.reconcile_day(pay=core.pay, bill_date=day, actor="cli", again=args.again)

    try:
        result = asyncio.run(run())
    except CommerceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    if not result.redone:
        print(f"{result.bill_date} 已对过账（差异 {result.found} 条）；加 --again 重新对账")
        return 0
    fees = "" if result.fees is None else f"，手续费 {fen_to_yuan(result.fees)} 元"
    print(f"{result.bill_date} 对账完成：差异 {result.found} 条（新增 {result.added} 条）{fees}")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from shop import workers
    from shop.observability import configure_logging

    if args.workers < 1:
        print("--workers 至少为 1 / must be at least 1", file=sys.stderr)
        return 2
    if problem := workers.refusal(settings, args.workers):
        print(problem, file=sys.stderr)
        return 2
    if "PUBLIC_BASE_URL" not in _environ() and (args.host, args.port) != ("127.0.0.1", 8080):
        # The simulator is reached through our own address: follow the flags.
        settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{args.port}"})
    configure_logging(settings.log_level, settings.log_format)
    if args.workers > 1:
        print(
            f"商城服务已启动: http://{args.host}:{args.port}  "
            f"({args.workers} 个工作进程, WeChat: {settings.wechat_mode})"
        )
        return workers.serve_workers(
            settings, host=args.host, port=args.port, workers=args.workers, share_socket=args.share_socket
        )
    if not args.supervisor_pid:
        workers.metrics_dir(settings, 1)  # emptied when PROMETHEUS_MULTIPROC_DIR names one
    # Imported here: the supervisor of several workers serves nothing and needs none of it.
    from aiohttp import web

    from shop.app import create_app
    from shop.observability import AccessLogger

    app = create_app(settings)
    listen: dict = {"host": args.host, "port": args.port}
    if args.supervisor_pid:
        workers.watch_supervisor(app, args.supervisor_pid)
        workers.drain_on_first_signal(app)
        if args.worker_fd is not None:
            listen = {"sock": workers.inherited_socket(args.worker_fd)}
        else:
            listen["reuse_port"] = args.worker_reuse_port
    else:
        print(f"商城服务已启动: http://{args.host}:{args.port}  (WeChat: {settings.wechat_mode})")
    web.run_app(
        app,
        **listen,
        print=None,
        access_log_class=AccessLogger,
        handle_signals=not args.supervisor_pid,
        # SIGTERM: stop accepting, give in-flight requests this long, then clean up and exit.
        shutdown_timeout=settings.shutdown_grace_seconds,
    )
    return 0


def _scheduler(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.core import open_core
    from scheduler import running_scheduler
    from shop.app import with_simulated_merchant
    from shop.monitoring import serve_alone
    from shop.observability import configure_logging
    from shop.subscriptions import subscribers

    configure_logging(settings.log_level, settings.log_format)

    async def run() -> int:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # systemd's stop, docker stop, Ctrl-C
            loop.add_signal_handler(signum, stopped.set)
        configured = with_simulated_merchant(settings)
        async with open_core(configured, subscribers, build_search_index=False) as core:
            monitor = None
            if args.port:  # before any job runs: a port taken stops the start
                try:
                    monitor = await serve_alone(core, host=args.host, port=args.port)
                except OSError as exc:
                    address = f"{args.host}:{args.port}"
                    print(f"监控端口 {address} 无法监听：{exc.strerror or exc}", file=sys.stderr)
                    return 1
            try:
                async with running_scheduler(core):  # left: the runs under way finish first
                    where = f"，监控：http://{args.host}:{args.port}/metrics" if monitor else ""
                    print(f"定时任务已启动{where}")
                    await stopped.wait()
                    print("正在停止：等待进行中的定时任务完成……")
            finally:
                if monitor is not None:
                    await monitor.cleanup()
        return 0

    return asyncio.run(run())


def _simulator(settings: Settings, args: argparse.Namespace) -> int:
    """The simulator `shop serve` mounts at /_sim keeps its state (login codes, tokens) in its
    process; several workers share this one instead (WECHAT_API_BASE), as they would WeChat."""
    from aiohttp import web

    from shop.app import simulator_config, with_simulated_merchant
    from wechat_simulator import create_simulator_app

    if not settings.simulator:
        print("微信模拟器只用于模拟模式（WECHAT_MODE=simulator）", file=sys.stderr)
        return 2
    app = create_simulator_app(simulator_config(with_simulated_merchant(settings)))  # the shop's keys
    print(f"微信模拟器：http://{args.host}:{args.port}（工作进程设置 WECHAT_API_BASE 为此地址）")
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.ledger.backfill import catch_up
    from commerce.migrate import migrate_database

    asyncio.run(migrate_database(settings))
    caught_up = asyncio.run(catch_up(settings))
    print("数据库已是最新结构")
    if caught_up.payments or caught_up.refunds:
        print(f"账本补记: {caught_up.payments} 笔收款, {caught_up.refunds} 笔退款")
    return 0


def _seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.catalog.demo import seed_demo

    loaded = asyncio.run(seed_demo(settings, only_if_empty=args.if_empty))
    print(f"演示数据: 载入 {loaded} 个商品" if loaded else "已有商品，跳过演示数据")
    if loaded:
        deal, sale = asyncio.run(_seed_buying_together(settings))
        print(f"演示活动: 拼团 #{deal}，社区团购 #{sale}")
    faq = asyncio.run(_seed_faq(settings))
    if faq:
        print(f"常见问题: 载入 {faq} 条")
    return 0


async def _seed_buying_together(settings: Settings) -> tuple[int | None, int | None]:
    from commerce.community.demo import seed_demo_sale
    from commerce.core import no_subscribers, open_core
    from commerce.groupbuy.demo import seed_demo_deal

    async with open_core(settings, no_subscribers, build_search_index=False):
        return await seed_demo_deal(), await seed_demo_sale(cutoff_hour=settings.community_cutoff_hour)


async def _seed_faq(settings: Settings) -> int:
    from commerce.core import open_core
    from commerce.support.faq import seed_starter_faq
    from shop.subscriptions import subscribers

    async with open_core(settings, subscribers, build_search_index=False):
        return await seed_starter_faq(settings=settings)


def _import_products(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.catalog.catalog_file import CatalogFileError
    from commerce.catalog.importer import import_catalog_file

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


PLATFORM_ROLE_NAMES = {"platform_admin": "平台管理员", "agent": "客服", "finance": "财务"}


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.errors import CommerceError
    from commerce.staff.services import create_first_account_cli
    from commerce.staff.states import StaffRole

    password = args.password or getpass.getpass("密码: ")
    try:
        asyncio.run(
            create_first_account_cli(
                settings,
                username=args.username,
                password=password,
                role=StaffRole(args.role),
                display_name=args.display_name,
            )
        )
    except CommerceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"已创建{PLATFORM_ROLE_NAMES[args.role]} {args.username}")
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    import os

    from commerce.transfer import database_kind, export_database

    # Written beside the target and renamed into place: a failed export leaves no half file.
    # Mode 600 from its first byte: it holds shoppers' phones and addresses, staff password hashes.
    partial = args.file.with_name(args.file.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        report = asyncio.run(export_database(settings, out))
    partial.replace(args.file)
    print(f"已从 {database_kind(settings)} 导出 {report.tables} 张表、{report.rows} 行到 {args.file}")
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from commerce.transfer import TransferError, database_kind, import_database

    if not args.file.is_file():
        print(f"文件不存在: {args.file}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(import_database(settings, args.file))
    except TransferError as exc:
        print(f"无法导入: {exc}", file=sys.stderr)
        return 1
    print(f"已向 {database_kind(settings)} 导入 {report.tables} 张表、{report.rows} 行")
    return 0


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(main())
