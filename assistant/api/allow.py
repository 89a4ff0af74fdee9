"""OPTIONS names every method its path takes. Litestar 2 answers it with the methods of the
first handler registered on the path only (litestar-org/litestar#4169, fixed in 3.0), so a
client would think `GET /api/v1/users` does not exist."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class AllowEveryMethod(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") != "OPTIONS":
            await next_app(scope, receive, send)
            return
        known = scope["litestar_app"].route_handler_method_map
        paths = scope["route_handler"].paths
        methods = sorted({m for path in paths for m in known.get(path, {})})

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and methods:
                headers = MutableScopeHeaders.from_message(message)
                if "allow" in headers:
                    headers["allow"] = ", ".join(methods)
            await send(message)

        await next_app(scope, receive, send_allow)
