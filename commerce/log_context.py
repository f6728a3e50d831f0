"""Who a request acts for, noted by the edge that authenticated it, for the access log.

The composition root opens a note per request (`open_note`); an edge that learns the actor
(the mini-program API's shopper, the admin's staff member) writes it in (`note_actor`). The
note is a mutable object shared through a ContextVar, so the edge's write reaches the root's
middleware whichever task or context copy the edge ran in. Ids only: never names or phones.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RequestNote:
    actor: str = ""  # "shopper:12", "staff:3"; empty: anonymous


_note: ContextVar[RequestNote | None] = ContextVar("request_note", default=None)


def open_note() -> tuple[RequestNote, object]:
    """A fresh note for this request, and the token that closes it (`close_note`)."""
    note = RequestNote()
    return note, _note.set(note)


def close_note(token: object) -> None:
    _note.reset(token)  # type: ignore[arg-type]


def note_actor(kind: str, actor_id: int) -> None:
    """Record the request's actor (no-op outside a request: a CLI or a job)."""
    note = _note.get()
    if note is not None:
        note.actor = f"{kind}:{actor_id}"
