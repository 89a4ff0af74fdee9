"""A shop admin's changes to the shop's users, for the API and the admin page alike: one
account per email in a shop, and a shop always keeps one active admin."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.auth.caller import Caller
from assistant.db.session import Role
from assistant.errors import Conflict, NotFound
from assistant.tenants import repository
from assistant.tenants.repository import User

TAKEN = "a user with this email already exists in this shop"
LAST_ADMIN = "a shop keeps at least one active admin: make another user admin first"


async def create(
    session: AsyncSession, admin: Caller, email: str, role: Role, pass_hash: str
) -> User:
    tenant = admin.ctx.tenant_id
    if await repository.user_by_email(session, tenant, email):
        raise Conflict(TAKEN)
    try:
        async with session.begin_nested():
            await repository.insert_user(session, tenant, email, pass_hash, role)
    except IntegrityError:
        raise Conflict(TAKEN) from None
    user = await repository.user_by_email(session, tenant, email)
    assert user is not None
    return user


async def change(
    session: AsyncSession, admin: Caller, user_id: UUID, values: dict[str, object]
) -> User:
    """`values`: role and/or is_active. The shop's users are locked first, so two admins
    demoting each other at once cannot leave the shop with none."""
    tenant = admin.ctx.tenant_id
    demoting = values.get("role", "ADMIN") != "ADMIN" or values.get("is_active") is False
    await repository.lock_users(session, tenant)
    if demoting and await repository.active_admins(session, tenant) == [user_id]:
        raise Conflict(LAST_ADMIN)
    user = await repository.update_user(session, tenant, user_id, values) if values else None
    if user is None:
        found = [u for u in await repository.list_users(session, tenant) if u.user_id == user_id]
        if not found:
            raise NotFound("no such user")
        return found[0]
    return user
