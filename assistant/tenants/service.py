"""Creating shops and users, for the CLI (and later the admin API)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.exc import IntegrityError

from assistant.db.session import Database, DbContext, Role
from assistant.tenants import repository
from assistant.tenants.passwords import hash_password
from assistant.tenants.repository import Tenant, User

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TenantError(ValueError):
    """A request about shops or users that cannot be carried out as asked."""


class UnknownTenant(TenantError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"no shop with slug {slug!r}")


def admin_context(tenant: Tenant) -> DbContext:
    """How command-line jobs act: inside one named shop, as ADMIN, with no user."""
    return DbContext(tenant_id=tenant.tenant_id, role=Role.ADMIN)


async def find_tenant(db: Database, slug: str) -> Tenant:
    async with db.transaction(None) as session:
        tenant = await repository.tenant_by_slug(session, slug)
    if tenant is None:
        raise UnknownTenant(slug)
    return tenant


async def list_tenants(db: Database) -> list[Tenant]:
    async with db.transaction(None) as session:
        return await repository.list_tenants(session)


async def create_tenant(db: Database, slug: str, name: str) -> Tenant:
    if not SLUG.match(slug):
        raise TenantError("a slug is 2-63 lowercase letters, digits and dashes")
    if not name.strip():
        raise TenantError("a shop needs a name")
    tenant_id = uuid.uuid4()
    try:
        async with db.transaction(DbContext(tenant_id=tenant_id, role=Role.ADMIN)) as session:
            await repository.insert_tenant(session, tenant_id, slug, name.strip())
    except IntegrityError:
        raise TenantError(f"a shop with slug {slug!r} already exists") from None
    return await find_tenant(db, slug)


async def create_user(db: Database, tenant: Tenant, email: str, role: Role, password: str) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise TenantError("not an email address")
    pass_hash = hash_password(password)
    try:
        async with db.transaction(admin_context(tenant)) as session:
            await repository.insert_user(session, tenant.tenant_id, email, pass_hash, role)
            user = await repository.user_by_email(session, tenant.tenant_id, email)
    except IntegrityError:
        raise TenantError(f"{email} already has an account in {tenant.slug}") from None
    assert user is not None
    return user


async def set_user_active(db: Database, tenant: Tenant, email: str, active: bool) -> None:
    async with db.transaction(admin_context(tenant)) as session:
        if not await repository.set_user_active(
            session, tenant.tenant_id, email.strip().lower(), active
        ):
            raise TenantError(f"no user {email} in {tenant.slug}")


async def list_users(db: Database, tenant: Tenant) -> list[User]:
    async with db.transaction(admin_context(tenant)) as session:
        return await repository.list_users(session, tenant.tenant_id)
