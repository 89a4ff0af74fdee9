"""Who is asking: a user's database context (shop, role, user) with their email and shop slug.
Every request and every CLI command that acts as a user holds one."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.db.session import Database, DbContext, Role
from assistant.tenants import repository
from assistant.tenants.service import TenantError


@dataclass(frozen=True, slots=True)
class Caller:
    ctx: DbContext
    email: str
    slug: str


async def caller_by_email(db: Database, email: str, slug: str | None = None) -> Caller:
    """Who `--user EMAIL` is: the one active account with that email (in that shop)."""
    async with db.transaction(None) as session:
        candidates = await repository.logins(session, email.strip().lower())
    if slug:
        candidates = [c for c in candidates if c.slug == slug]
    active = [c for c in candidates if c.user_active and c.tenant_active]
    if not active:
        raise TenantError(f"no active user {email}" + (f" in {slug}" if slug else ""))
    if len(active) > 1:
        raise TenantError(f"{email} has accounts in several shops: pass --tenant SLUG")
    login = active[0]
    return Caller(
        DbContext(tenant_id=login.tenant_id, role=Role(login.role), user_id=login.user_id),
        login.email,
        login.slug,
    )
