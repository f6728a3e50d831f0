"""Typed routes: each endpoint declares its query, body and response models once, and the
same declaration drives request validation and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from commerce.errors import CommonError
from miniprogram_api.errors import dumps

Handler = Callable[..., Awaitable[Any]]

# pydantic's error types, said in Chinese for the person reading the message.
_FIELD_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为字符串",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "greater_than": "数值太小",
    "greater_than_equal": "数值太小",
    "less_than": "数值太大",
    "less_than_equal": "数值太大",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "extra_forbidden": "不支持的字段",
    "model_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    auth: bool
    status: int
    upload: str | None = None  # a multipart/form-data body carrying one file in this field


class Router:
    """Collects endpoints; `install` adds them to an app with validation around each."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        auth: bool = False,
        status: int = 200,
        upload: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method, path, handler, summary, tag, query, body, response, auth, status, upload)
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)

    def install(self, app: web.Application, authenticate: Callable[[web.Request], Awaitable[Any]]) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint, authenticate))


def _wrap(endpoint: Endpoint, authenticate: Callable[[web.Request], Awaitable[Any]]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        if endpoint.auth:
            kwargs["shopper"] = await authenticate(request)
        if endpoint.query is not None:
            kwargs["query"] = validate(endpoint.query, dict(request.query))
        if endpoint.body is not None:
            kwargs["body"] = validate(endpoint.body, await read_json(request))
        result = await endpoint.handler(request, **kwargs)
        if isinstance(result, web.StreamResponse):
            return result
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return web.json_response(result, status=endpoint.status, dumps=dumps)

    handle.__name__ = endpoint.handler.__name__
    return handle


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path; anything else (or beyond 32 bits) is simply not found."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # "¹".isdigit() is True
        raise CommonError.NOT_FOUND.error()
    return int(raw)


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise CommonError.MALFORMED_JSON.error("请求内容为空，需要 JSON")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past the stack
        raise CommonError.MALFORMED_JSON.error() from None


def validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [
            {
                "field": ".".join(str(part) for part in err["loc"]) or "(body)",
                "code": err["type"],
                "message": _FIELD_MESSAGES.get(err["type"], "取值无效"),
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        summary = "；".join(f"{f['field']}: {f['message']}" for f in fields[:3])
        raise CommonError.INVALID_REQUEST.error(f"请求参数有误（{summary}）", fields=fields) from exc
