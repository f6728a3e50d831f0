"""CommerceError and the base of every context's error-code enum.

Each context declares its codes as an ErrorCode enum: a stable snake_case code, the kind of
failure (which every edge maps to its own answer: an HTTP status, a polite WeChat text, a flash
message) and the zh-CN message a person reads. Edges match on codes and kinds, never on text.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the input is wrong; the caller can fix it
    NOT_FOUND = "not_found"  # no such object, or not the caller's (ownership is a not-found)
    CONFLICT = "conflict"  # the object's state does not allow it (now)
    UNAUTHENTICATED = "unauthenticated"  # who is asking is unknown or the session expired
    FORBIDDEN = "forbidden"  # known, but not allowed
    RATE_LIMITED = "rate_limited"  # too many attempts; try later
    UNAVAILABLE = "unavailable"  # a dependency (WeChat, the database) failed; try later


class ErrorCode(Enum):
    """Base for error-code enums: members are (code, kind, message)."""

    def __new__(cls, code: str, kind: ErrorKind, message: str) -> ErrorCode:
        member = object.__new__(cls)
        member._value_ = code
        member.kind = kind  # type: ignore[attr-defined]
        member.message = message  # type: ignore[attr-defined]
        return member

    kind: ErrorKind
    message: str

    @property
    def code(self) -> str:
        return str(self.value)

    def error(self, message: str | None = None, **details: Any) -> CommerceError:
        """The exception for this code, with an optional more specific message."""
        return CommerceError(self, message, **details)


class CommerceError(Exception):
    """A business rule said no. Carries a stable code, a kind and a zh-CN message."""

    def __init__(self, code: ErrorCode, message: str | None = None, **details: Any) -> None:
        self.error_code = code
        self.message = message or code.message
        self.details = details
        super().__init__(f"{code.code}: {self.message}")

    @property
    def code(self) -> str:
        return self.error_code.code

    @property
    def kind(self) -> ErrorKind:
        return self.error_code.kind


class CommonError(ErrorCode):
    """Codes that any context or edge may raise."""

    INVALID_REQUEST = ("invalid_request", ErrorKind.INVALID, "请求参数有误")
    MALFORMED_JSON = ("malformed_json", ErrorKind.INVALID, "请求内容不是有效的 JSON")
    NOT_FOUND = ("not_found", ErrorKind.NOT_FOUND, "找不到您要的内容")
    UNAUTHENTICATED = ("unauthenticated", ErrorKind.UNAUTHENTICATED, "请先登录")
    FORBIDDEN = ("forbidden", ErrorKind.FORBIDDEN, "没有权限执行此操作")
    RATE_LIMITED = ("rate_limited", ErrorKind.RATE_LIMITED, "操作太频繁，请稍后再试")
    UNAVAILABLE = ("service_unavailable", ErrorKind.UNAVAILABLE, "服务暂时不可用，请稍后再试")
