"""Logging in and re-reading the caller on every request.

A token only says which user in which shop; whether that user and shop are still active,
and what role the user has, is read from the database each time, in the request's own
transaction, before anything else runs in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.auth import tokens
from assistant.auth.caller import Caller
from assistant.auth.throttle import LoginThrottle
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role, set_context
from assistant.errors import Conflict, RateLimited, Unauthorized
from assistant.tenants import repository
from assistant.tenants.passwords import DUMMY_HASH, verify_password

BAD_LOGIN = "wrong email or password"
LOCKED_OUT = "too many failed logins for this email; try again later"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class LoginGuard:
    """What every login passes through: the per-account failure count (shared by every
    worker), and this process's cap on concurrent argon2 checks, each of which takes 64 MiB, so a
    burst of logins cannot take the server's memory."""

    throttle: LoginThrottle
    argon2_limiter: anyio.CapacityLimiter
    verify: Callable[[str, str], bool] = verify_password

    async def password_matches(self, pass_hash: str, password: str) -> bool:
        # argon2 takes tens of milliseconds of CPU by design: never on the event loop.
        return await anyio.to_thread.run_sync(
            self.verify, pass_hash, password, limiter=self.argon2_limiter
        )


async def login(
    db: Database,
    guard: LoginGuard,
    secret: str,
    ttl_s: int,
    email: str,
    password: str,
    tenant: str | None,
) -> IssuedToken:
    wait_s = await guard.throttle.attempt(email)
    if wait_s is not None:
        raise RateLimited(LOCKED_OUT, wait_s)
    async with db.transaction(None) as session:
        candidates = await repository.logins(session, email.strip().lower())
    if tenant:
        candidates = [c for c in candidates if c.slug == tenant]
    matching = [c for c in candidates if await guard.password_matches(c.pass_hash, password)]
    if not candidates:
        await guard.password_matches(DUMMY_HASH, password)  # same cost
    if not matching:
        raise Unauthorized(BAD_LOGIN)
    await guard.throttle.clear(email)
    active = [c for c in matching if c.user_active and c.tenant_active]
    if not active:
        raise Unauthorized("this account or its shop is disabled")
    if len(active) > 1:
        raise Conflict("this email has accounts in several shops: give the shop's slug as tenant")
    found = active[0]
    return IssuedToken(tokens.issue(secret, found.user_id, found.tenant_id, ttl_s), ttl_s)


async def authenticate(session: AsyncSession, claims: tokens.Claims) -> Caller:
    """Runs first in the request's transaction and leaves it acting as the caller."""
    await set_context(session, DbContext(claims.tenant_id, Role.TECH, claims.user_id))
    row = (
        await session.execute(
            select(t.users.c.email, t.users.c.role, t.tenants.c.slug)
            .join(t.tenants, t.tenants.c.tenant_id == t.users.c.tenant_id)
            .where(
                t.users.c.tenant_id == claims.tenant_id,
                t.users.c.user_id == claims.user_id,
                t.users.c.is_active,
                t.tenants.c.is_active,
            )
        )
    ).first()
    if row is None:
        raise Unauthorized("this account or its shop is disabled")
    ctx = DbContext(claims.tenant_id, Role(row.role), claims.user_id)
    await set_context(session, ctx)
    return Caller(ctx, row.email, row.slug)


def user_id_of(caller: Caller) -> UUID:
    assert caller.ctx.user_id is not None, "an HTTP caller is always a user"
    return caller.ctx.user_id
