"""Canned replies (快捷回复): texts agents keep at hand and send as they are. Every change is
recorded in the audit log with the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce import clock
from commerce.audit import services as audit
from commerce.support.errors import MAX_CANNED_TEXT_CHARS, MAX_CANNED_TITLE_CHARS, SupportError
from commerce.support.models import CannedReply
from commerce.transactions import unit_of_work, write_transaction

MAX_SORT = 9999


@dataclass(frozen=True)
class CannedReplyView:
    id: int
    title: str
    text: str
    sort: int
    created_by: str
    updated_at: datetime


async def list_canned_replies() -> list[CannedReplyView]:
    """All of them, in the order agents see them."""
    return [_view(row) for row in await CannedReply.all().order_by("sort", "id")]


async def get_canned_reply(*, canned_id: int) -> CannedReplyView:
    return _view(await _row(canned_id))


@unit_of_work
async def create_canned_reply(*, title: str, text: str, sort: int | str = 0, actor: str) -> CannedReplyView:
    fields = _clean(title, text, sort)
    now = clock.now()
    async with write_transaction() as conn:
        row = await CannedReply.create(
            **fields, created_by=actor, updated_by=actor, created_at=now, updated_at=now, using_db=conn
        )
        await audit.record(
            actor=actor,
            action="canned_reply.create",
            object_type="canned_reply",
            object_id=row.id,
            summary=f"新增快捷回复「{row.title}」",
            after=fields,
            connection=conn,
        )
    return _view(row)


@unit_of_work
async def update_canned_reply(
    *, canned_id: int, title: str, text: str, sort: int | str = 0, actor: str
) -> CannedReplyView:
    fields = _clean(title, text, sort)
    async with write_transaction() as conn:
        row = await CannedReply.filter(id=canned_id).using_db(conn).select_for_update().first()
        if row is None:
            raise SupportError.CANNED_NOT_FOUND.error()
        before = {"title": row.title, "text": row.text, "sort": row.sort}
        await (
            CannedReply.filter(id=canned_id)
            .using_db(conn)
            .update(**fields, updated_by=actor, updated_at=clock.now())
        )
        await audit.record(
            actor=actor,
            action="canned_reply.update",
            object_type="canned_reply",
            object_id=canned_id,
            summary=f"修改快捷回复「{fields['title']}」",
            before=before,
            after=fields,
            connection=conn,
        )
    return await get_canned_reply(canned_id=canned_id)


@unit_of_work
async def delete_canned_reply(*, canned_id: int, actor: str) -> None:
    async with write_transaction() as conn:
        row = await CannedReply.filter(id=canned_id).using_db(conn).first()
        # The row count decides: of two racing deletes, one is recorded, the other not found.
        if row is None or not await CannedReply.filter(id=canned_id).using_db(conn).delete():
            raise SupportError.CANNED_NOT_FOUND.error()
        await audit.record(
            actor=actor,
            action="canned_reply.delete",
            object_type="canned_reply",
            object_id=canned_id,
            summary=f"删除快捷回复「{row.title}」",
            before={"title": row.title, "text": row.text, "sort": row.sort},
            connection=conn,
        )


def _clean(title: str, text: str, sort: int | str) -> dict:
    title, text = " ".join((title or "").split()), (text or "").strip()
    try:
        order = int(str(sort).strip() or 0)
    except ValueError:
        raise SupportError.CANNED_INVALID.error("排序必须是整数") from None
    if not title or len(title) > MAX_CANNED_TITLE_CHARS or not text or len(text) > MAX_CANNED_TEXT_CHARS:
        raise SupportError.CANNED_INVALID.error()
    if abs(order) > MAX_SORT:
        raise SupportError.CANNED_INVALID.error(f"排序须在 -{MAX_SORT} 到 {MAX_SORT} 之间")
    return {"title": title, "text": text, "sort": order}


async def _row(canned_id: int) -> CannedReply:
    row = await CannedReply.get_or_none(id=canned_id)
    if row is None:
        raise SupportError.CANNED_NOT_FOUND.error()
    return row


def _view(row: CannedReply) -> CannedReplyView:
    return CannedReplyView(
        id=row.id,
        title=row.title,
        text=row.text,
        sort=row.sort,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )
