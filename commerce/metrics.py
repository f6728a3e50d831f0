"""The core's Prometheus counters: what happened, counted where it is known.

Counters only (a name per business fact, a few bounded labels): they are cheap to increment,
and in prometheus_client's multi-process mode (PROMETHEUS_MULTIPROC_DIR set before this module
is imported) every worker's counts are summed at scrape time. Facts the database already keeps
(the outbox backlog) are not counted here: the scrape asks the database (commerce.health).
The exposition and its access rule are the composition root's (shop.metrics).
"""

from __future__ import annotations

import re

from prometheus_client import Counter

WECHAT_CALLS = Counter(
    "shop_wechat_calls",
    "Calls to the WeChat API by path and errcode (0: success; unavailable: no answer read).",
    ["api", "errcode"],
)
WECHAT_PAY_CALLS = Counter(
    "shop_wechatpay_calls",
    "Calls to WeChat Pay APIv3 by API (ids replaced by {id}) and code (ok, a refusal's code, unavailable).",
    ["api", "code"],
)
PAYMENT_NOTIFICATIONS = Counter(
    "shop_payment_notifications",
    "WeChat Pay payment notifications by outcome (paid, duplicate, ignored, or the refusal's error code).",
    ["outcome"],
)
BOT_REPLIES = Counter("shop_bot_replies", "The bot's answers to pushes by intent.", ["intent"])
ORDERS_PLACED = Counter("shop_orders_placed", "Orders placed (one per merchant of a checkout).")
ORDERS_PAID = Counter("shop_orders_paid", "Orders moved to paid by a payment.")
GMV_PAID = Counter("shop_gmv_paid_fen", "Money paid for orders (fen), as WeChat Pay reported it paid.")
JOB_RUNS = Counter(
    "shop_job_runs", "Scheduled job runs by job (the period claimed by this process).", ["job"]
)
JOB_FAILURES = Counter("shop_job_failures", "Scheduled job runs that raised, by job.", ["job"])
# A job handles its items one by one (commerce.jobs): an item that fails does not fail the run.
JOB_ITEM_FAILURES = Counter(
    "shop_job_item_failures",
    "Items a scheduled job failed on (recorded, retried later), by job and kind.",
    ["job", "item_kind"],
)

UNAVAILABLE = "unavailable"
# Ids inside WeChat Pay paths (out_trade_no, out_refund_no, out_bill_no): one series per API.
_PAY_PATH_ID = re.compile(r"(/(?:out-trade-no|refunds|out-bill-no|id))/[^/?]+")


def pay_api(path: str) -> str:
    """The API a WeChat Pay path calls, without ids or query."""
    return _PAY_PATH_ID.sub(r"\1/{id}", path.split("?", 1)[0])
