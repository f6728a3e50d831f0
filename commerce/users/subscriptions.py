"""The subscribe messages each shopper accepted in the mini-program, as credits per template.

The mini-program asks with wx.requestSubscribeMessage and reports WeChat's answer here; each
"accept" lets us send one message of that template. A notice that uses one takes a credit
first (a conditional UPDATE: two notices at once cannot both spend the last), gives it back
when WeChat could not be reached, and forgets the template's credits when WeChat says the
shopper has none left (43101: they were spent elsewhere, or the report was not true).
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from commerce import clock
from commerce.errors import CommerceError
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.errors import SubscriptionError
from commerce.users.models import SubscribeCredit

DECISIONS = ("accept", "reject", "ban", "filter")  # wx.requestSubscribeMessage's answers
MAX_CREDITS = 100  # more acceptances than this are kept as this many (WeChat keeps its own count)


@unit_of_work
async def record_decisions(*, user_id: int, decisions: dict[str, str], known: Iterable[str]) -> None:
    """Add a credit per accepted template. Templates that are not ours, or answers WeChat does
    not give, refuse the whole report."""
    known = set(known)
    for template_id, decision in decisions.items():
        if template_id not in known:
            raise CommerceError(SubscriptionError.UNKNOWN_TEMPLATE, template_id=template_id)
        if decision not in DECISIONS:
            raise CommerceError(SubscriptionError.INVALID_DECISION, template_id=template_id)
    accepted = sorted(template_id for template_id, decision in decisions.items() if decision == "accept")
    async with write_transaction() as conn:
        for template_id in accepted:
            await _ensure_row(user_id, template_id, conn)
            await (
                SubscribeCredit.filter(user_id=user_id, template_id=template_id, credits__lt=MAX_CREDITS)
                .using_db(conn)
                .update(credits=F("credits") + 1, updated_at=clock.now())
            )


async def credits_of(*, user_id: int) -> dict[str, int]:
    rows = await SubscribeCredit.filter(user_id=user_id).values_list("template_id", "credits")
    return dict(rows)


async def take(*, user_id: int, template_id: str) -> bool:
    """Spend one credit; False when none is left."""
    taken = await SubscribeCredit.filter(user_id=user_id, template_id=template_id, credits__gt=0).update(
        credits=F("credits") - 1, updated_at=clock.now()
    )
    return taken == 1


async def give_back(*, user_id: int, template_id: str) -> None:
    """The message was not delivered (WeChat unreachable): the acceptance is still unused."""
    await SubscribeCredit.filter(user_id=user_id, template_id=template_id).update(
        credits=F("credits") + 1, updated_at=clock.now()
    )


async def forget(*, user_id: int, template_id: str) -> None:
    """WeChat says none is left: ours was wrong, and the next notice should not try."""
    await SubscribeCredit.filter(user_id=user_id, template_id=template_id).update(
        credits=0, updated_at=clock.now()
    )


async def _ensure_row(user_id: int, template_id: str, conn) -> None:
    if await SubscribeCredit.filter(user_id=user_id, template_id=template_id).using_db(conn).exists():
        return
    try:
        async with write_transaction() as savepoint:  # a racing report may insert it first
            await SubscribeCredit.create(
                user_id=user_id,
                template_id=template_id,
                credits=0,
                updated_at=clock.now(),
                using_db=savepoint,
            )
    except IntegrityError:
        pass
