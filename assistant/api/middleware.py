"""Request ids and the access log: one JSON line per request with request id, tenant,
user, route, status and latency. Question and answer text are never logged here."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assistant.logging import get_logger

log = get_logger("assistant.access")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def request_context(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _CLIENT_ID.match(given) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(bytes(k).lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            caller = state.get("caller")
            route = scope.get("path_template") or scope.get("path")
            log.info(
                "request",
                method=scope.get("method"),
                route=route,
                status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
                tenant=str(caller.ctx.tenant_id) if caller else None,
                user=str(caller.ctx.user_id) if caller else None,
            )

    return middleware
