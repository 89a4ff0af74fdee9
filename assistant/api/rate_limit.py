"""The per-user (else per-address) request limit, counted where every worker sees it.

Litestar's own limiter keeps its counts in one process's store: with `serve --workers N`
each worker would allow the limit again. This one counts in PostgreSQL through
`assistant.limits` and answers like it did: RateLimit-* headers on every counted response,
429 with Retry-After past the limit.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import deps
from assistant.errors import Unauthorized
from assistant.limits.counters import SharedCounters

WINDOW_S = 60


def identity(request: Request[Any, Any, Any]) -> str:
    """Per user when the request carries a valid token, else per client address."""
    try:
        claims = deps.bearer_claims(request, request.app.state.token_secret)
    except Unauthorized:
        return f"ip:{request.client.host if request.client else 'unknown'}"
    return f"user:{claims.user_id}"


class SharedRateLimit(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, limit: int, exclude: tuple[str, ...]) -> None:
        self.limit = limit
        self.exclude_path_pattern = exclude

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        litestar_app = scope["litestar_app"]
        request: Request[Any, Any, Any] = litestar_app.request_class(scope)
        counters: SharedCounters = litestar_app.state.counters
        bucket = counters.bucket(f"rate{self.limit}", identity(request))
        hit = await counters.hit(bucket, self.limit, WINDOW_S)
        headers = {
            "RateLimit-Policy": f"{self.limit}; w={WINDOW_S}",
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(hit.remaining),
            "RateLimit-Reset": str(hit.reset_s),
        }
        if not hit.allowed:
            raise TooManyRequestsException(headers=headers | {"Retry-After": str(hit.reset_s)})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    mutable[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)
