"""Request-scoped dependencies: the caller, and the request's one transaction.

`db_session` authenticates inside the transaction it opens, so the user record is re-read
on every request and the transaction acts as that user from its first statement on. Chat
turns, which must not hold a transaction while a model answers, use `chat_caller` instead
and open their own short transactions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.auth import service as auth
from assistant.auth import tokens
from assistant.auth.caller import Caller
from assistant.db.session import Role
from assistant.errors import Forbidden, Unauthorized


def bearer_claims(request: Request[Any, Any, Any], secret: str) -> tokens.Claims:
    """From the Authorization header, else from the web app's session cookie (whose
    unsafe requests the CSRF middleware has already checked)."""
    if "authorization" not in request.headers and (
        cookie := request.cookies.get(tokens.SESSION_COOKIE)
    ):
        return tokens.decode(secret, cookie)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    return tokens.decode(secret, token.strip())


def _remember(request: Request[Any, Any, Any], caller: Caller) -> None:
    request.scope["state"]["caller"] = caller
    structlog.contextvars.bind_contextvars(
        tenant=str(caller.ctx.tenant_id), user=str(caller.ctx.user_id)
    )


async def provide_db_session(
    request: Request[Any, Any, Any], state: State
) -> AsyncIterator[AsyncSession]:
    claims = bearer_claims(request, state.token_secret)
    async with state.database.transaction(None) as session:
        _remember(request, await auth.authenticate(session, claims))
        yield session


async def provide_caller(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
) -> Caller:
    caller: Caller = request.scope["state"]["caller"]
    return caller


async def provide_chat_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    claims = bearer_claims(request, state.token_secret)
    async with state.database.transaction(None) as session:
        caller = await auth.authenticate(session, claims)
    _remember(request, caller)
    return caller


async def provide_admin(caller: NamedDependency[Caller]) -> Caller:
    if caller.ctx.role is not Role.ADMIN:
        raise Forbidden("only a shop admin may do this")
    return caller


def _ip(request: Request[Any, Any, Any]) -> str | None:
    try:
        return str(ipaddress.ip_address(request.client.host)) if request.client else None
    except ValueError:
        return None


def provide_meta(request: Request[Any, Any, Any]) -> RequestMeta:
    return RequestMeta(
        request_id=request.scope.get("state", {}).get("request_id"),
        ip=_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
