"""SQL for shops and users. The directory functions are the only way across tenants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t
from assistant.db.session import Role


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: UUID
    slug: str
    name: str
    is_active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    user_id: UUID
    tenant_id: UUID
    email: str
    role: Role
    is_active: bool


@dataclass(frozen=True, slots=True)
class Login:
    user_id: UUID
    tenant_id: UUID
    slug: str
    email: str
    pass_hash: str
    role: str
    user_active: bool
    tenant_active: bool


async def logins(session: AsyncSession, email: str) -> list[Login]:
    """Every account with this email, in every shop (through the directory function)."""
    rows = await session.execute(
        text(
            "SELECT user_id, tenant_id, slug, pass_hash, role::text, user_active, tenant_active"
            " FROM app.directory_logins(:email)"
        ),
        {"email": email},
    )
    return [Login(r[0], r[1], r[2], email, r[3], r[4], r[5], r[6]) for r in rows]


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    rows = await session.execute(
        text("SELECT tenant_id, slug, name, is_active, created_at FROM app.directory_tenants()")
    )
    return [Tenant(*row) for row in rows]


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    row = (
        await session.execute(
            text(
                "SELECT tenant_id, slug, name, is_active, created_at"
                " FROM app.directory_tenant(:slug)"
            ),
            {"slug": slug},
        )
    ).first()
    return Tenant(*row) if row else None


async def insert_tenant(session: AsyncSession, tenant_id: UUID, slug: str, name: str) -> None:
    await session.execute(insert(t.tenants).values(tenant_id=tenant_id, slug=slug, name=name))


async def insert_user(
    session: AsyncSession, tenant_id: UUID, email: str, pass_hash: str, role: Role
) -> UUID:
    user_id = (
        await session.execute(
            insert(t.users)
            .values(tenant_id=tenant_id, email=email, pass_hash=pass_hash, role=role.value)
            .returning(t.users.c.user_id)
        )
    ).scalar_one()
    return UUID(str(user_id))


async def user_by_email(session: AsyncSession, tenant_id: UUID, email: str) -> User | None:
    row = (
        await session.execute(
            select(
                t.users.c.user_id,
                t.users.c.tenant_id,
                t.users.c.email,
                t.users.c.role,
                t.users.c.is_active,
            ).where(t.users.c.tenant_id == tenant_id, t.users.c.email == email)
        )
    ).first()
    return User(row[0], row[1], row[2], Role(row[3]), row[4]) if row else None


async def list_users(session: AsyncSession, tenant_id: UUID) -> list[User]:
    rows = await session.execute(
        select(
            t.users.c.user_id,
            t.users.c.tenant_id,
            t.users.c.email,
            t.users.c.role,
            t.users.c.is_active,
        )
        .where(t.users.c.tenant_id == tenant_id)
        .order_by(t.users.c.email)
    )
    return [User(r[0], r[1], r[2], Role(r[3]), r[4]) for r in rows]


async def set_user_active(session: AsyncSession, tenant_id: UUID, email: str, active: bool) -> bool:
    result = await session.execute(
        update(t.users)
        .where(t.users.c.tenant_id == tenant_id, t.users.c.email == email)
        .values(is_active=active, updated_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def update_user(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, values: dict[str, object]
) -> User | None:
    row = (
        await session.execute(
            update(t.users)
            .where(t.users.c.tenant_id == tenant_id, t.users.c.user_id == user_id)
            .values(**values, updated_at=func.now())
            .returning(
                t.users.c.user_id,
                t.users.c.tenant_id,
                t.users.c.email,
                t.users.c.role,
                t.users.c.is_active,
            )
        )
    ).first()
    return User(row[0], row[1], row[2], Role(row[3]), row[4]) if row else None


async def active_admins(session: AsyncSession, tenant_id: UUID) -> list[UUID]:
    rows = await session.execute(
        select(t.users.c.user_id).where(
            t.users.c.tenant_id == tenant_id,
            t.users.c.role == Role.ADMIN.value,
            t.users.c.is_active,
        )
    )
    return [UUID(str(r[0])) for r in rows]


async def lock_users(session: AsyncSession, tenant_id: UUID) -> None:
    """Serialises changes to a shop's users until the transaction ends, so two admins
    demoting each other at once cannot leave the shop with none."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('app.users:' || :tenant, 0))"),
        {"tenant": str(tenant_id)},
    )
