"""What every response and every cookie-authenticated request gets: security headers, and
CSRF checks for requests that rely on the session cookie.

An API client authenticates with an Authorization header, which another site cannot make a
browser send, so CSRF only concerns requests without one: every page and form, and the web
app's own calls to the JSON API with the cookie. An API request with no credentials at all
is left to answer 401 as before.
"""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware.base import MiddlewareProtocol
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assistant.auth.tokens import SESSION_COOKIE

CSRF_COOKIE = "ro_csrf"
CSRF_HEADER = "x-csrftoken"
# Logging in through the API carries no cookie and proves nothing a forger could use.
_EXEMPT = ("/api/v1/auth/token",)
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
        " form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def csrf_config(secret: str) -> CSRFConfig:
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_samesite="strict",
    )


def _cookie_authenticated(scope: Scope) -> bool:
    headers = dict(scope.get("headers", ()))
    if b"authorization" in headers:
        return False
    path: str = scope.get("path", "")
    if path in _EXEMPT:
        return False
    if not path.startswith("/api/"):
        return True
    return f"{SESSION_COOKIE}=".encode() in headers.get(b"cookie", b"")


class CookieCsrf(MiddlewareProtocol):
    """Litestar's CSRF middleware (double-submit cookie, HMAC-signed token), for the
    requests that authenticate by cookie only."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.checked = CSRFMiddleware(app, csrf_config(secret))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _cookie_authenticated(scope):
            await self.checked(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class SecurityHeaders(MiddlewareProtocol):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
