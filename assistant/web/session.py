"""The web session: the API's short-lived token in an HttpOnly, SameSite=Strict cookie
(Secure over HTTPS), renewed half-way through its life while the user is active. Pages
that need a user send a signed-out browser to the sign-in page instead of answering 401.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie, State
from litestar.response import Redirect

from assistant.auth import service as auth
from assistant.auth import tokens
from assistant.auth.caller import Caller
from assistant.db.session import Role
from assistant.errors import NotFound, Unauthorized

RENEW_KEY = "renewed_session"


class NotSignedIn(Exception):
    """A page asked for by a browser with no valid session."""


def session_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    return Cookie(
        key=tokens.SESSION_COOKIE,
        value=token,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def cleared_cookie(request: Request[Any, Any, Any]) -> Cookie:
    return Cookie(
        key=tokens.SESSION_COOKIE,
        value="",
        max_age=0,
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


async def page_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    token = request.cookies.get(tokens.SESSION_COOKIE)
    if not token:
        raise NotSignedIn
    try:
        claims = tokens.decode(state.token_secret, token)
        async with state.database.transaction(None) as session:
            caller = await auth.authenticate(session, claims)
    except Unauthorized:
        raise NotSignedIn from None
    ttl: int = state.settings.token_ttl_s
    if time.time() - claims.issued_at > ttl / 2:
        request.state[RENEW_KEY] = tokens.issue(
            state.token_secret, claims.user_id, claims.tenant_id, ttl
        )
    request.scope["state"]["caller"] = caller
    return caller


async def admin_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    """Others get the 404 any unknown page gets: the admin pages exist only for admins."""
    caller = await page_caller(request, state)
    if caller.ctx.role is not Role.ADMIN:
        raise NotFound("no such page")
    return caller


def renewed(request: Request[Any, Any, Any]) -> list[Cookie]:
    """The renewed session cookie to set with this page, if the request renewed it."""
    token = request.state.get(RENEW_KEY)
    if not token:
        return []
    return [session_cookie(request, token, request.app.state.settings.token_ttl_s)]


def to_sign_in(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        # htmx follows no redirect for a partial: send the whole page to sign in.
        return Response(b"", status_code=204, headers={"HX-Redirect": "/signin"})
    return Redirect(f"/signin?next={quote(target, safe='/')}", status_code=303)
