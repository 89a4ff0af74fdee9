"""The data access layer's one entry point: a transaction that carries the caller's context.

Row-level security reads the tenant, user and role from transaction-local settings. Every
unit of work sets all three as its first statement with `set_config(..., true)`, so the
values vanish at commit or rollback and a pooled connection never carries one caller's
tenant into the next. Nothing ever issues a session-level `SET`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from assistant.db.conninfo import sqlalchemy_url


class Role(StrEnum):
    TECH = "TECH"
    ADMIN = "ADMIN"
    PII_APPROVED = "PII_APPROVED"


@dataclass(frozen=True, slots=True)
class DbContext:
    """Who a unit of work acts as; always taken from the user record, never from a request."""

    tenant_id: UUID
    role: Role
    user_id: UUID | None = None


# Every statement is planned for its shop (plan_cache_mode): psycopg prepares a statement on
# its fifth run, and PostgreSQL may then choose a generic plan, which cannot prune
# app.ro_chunks to the shop's partition at plan time and locks every partition: with
# 10,000 shops that ran the lock table out of shared memory (bench/tenants.py).
_SET_CONTEXT = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true),"
    " set_config('app.user_id', :user_id, true),"
    " set_config('app.role', :role, true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)


async def set_context(session: AsyncSession, ctx: DbContext | None) -> None:
    """Transaction-local, so a pooled connection never carries it into the next request."""
    await session.execute(
        _SET_CONTEXT,
        {
            "tenant_id": str(ctx.tenant_id) if ctx else "",
            "user_id": str(ctx.user_id) if ctx and ctx.user_id else "",
            "role": ctx.role.value if ctx else "",
        },
    )


class Database:
    """Owns the engine (one per process) and hands out context-bound transactions."""

    def __init__(
        self, url: str, *, pool_size: int = 5, max_overflow: int = 5, pool_timeout_s: float = 30.0
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            # A request waits this long for a free connection, then gets 503, never hangs.
            pool_timeout=pool_timeout_s,
            pool_pre_ping=True,
            # Bound values can be customer PII: they never go into exception messages.
            hide_parameters=True,
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.capacity = pool_size + max_overflow

    def connections_in_use(self) -> int:
        pool = self.engine.pool
        return int(pool.checkedout()) if isinstance(pool, QueuePool) else 0

    @asynccontextmanager
    async def transaction(self, ctx: DbContext | None) -> AsyncIterator[AsyncSession]:
        """One transaction: commits when the block ends, rolls back if it raises.

        With `ctx=None` the context is set to empty, which RLS treats as "no tenant":
        every tenant table reads as empty and refuses writes.
        """
        async with self._sessions() as session, session.begin():
            await set_context(session, ctx)
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
