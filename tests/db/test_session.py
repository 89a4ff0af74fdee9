"""The data access layer: context-bound transactions that leave pooled connections clean."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.db.session import Database, DbContext, Role
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.anyio

READ_CONTEXT = text(
    "SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true),"
    " current_setting('app.role', true)"
)


async def test_transaction_sets_the_context_and_the_pool_forgets_it(app_db: Database) -> None:
    single = Database(
        str(app_db.engine.url.render_as_string(hide_password=False)).replace(
            "postgresql+psycopg", "postgresql"
        ),
        pool_size=1,
        max_overflow=0,
    )
    ctx = DbContext(tenant_id=uuid.uuid4(), user_id=uuid.uuid4(), role=Role.TECH)
    try:
        async with single.transaction(ctx) as session:
            inside = (await session.execute(READ_CONTEXT)).one()
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert tuple(inside) == (str(ctx.tenant_id), str(ctx.user_id), "TECH")

        with pytest.raises(RuntimeError, match="boom"):
            async with single.transaction(ctx) as session:
                raise RuntimeError("boom")

        async with single.engine.connect() as conn:
            assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() == pid
            after = (await conn.execute(READ_CONTEXT)).one()
        assert all(value in (None, "") for value in after)
    finally:
        await single.dispose()


async def test_rollback_discards_writes(app_db: Database) -> None:
    tenant = uuid.uuid4()
    ctx = DbContext(tenant_id=tenant, role=Role.ADMIN)
    insert = text("INSERT INTO app.tenants (tenant_id, slug, name) VALUES (:t, :s, 'Rolled')")

    async def insert_then_fail() -> None:
        async with app_db.transaction(ctx) as session:
            await session.execute(insert, {"t": tenant, "s": f"rb-{tenant.hex[:8]}"})
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await insert_then_fail()
    async with app_db.transaction(ctx) as session:
        count = (await session.execute(text("SELECT count(*) FROM app.tenants"))).scalar_one()
    assert count == 0


async def test_no_context_reads_nothing(app_db: Database) -> None:
    async with app_db.transaction(None) as session:
        count = (await session.execute(text("SELECT count(*) FROM app.repair_orders"))).scalar_one()
        role = (await session.execute(text("SELECT app.current_role()"))).scalar_one()
    assert count == 0
    assert role is None


SESSION_SET = re.compile(
    r"\bSET\s+(SESSION\s+)?app\.|set_config\(\s*'app\.[^)]*,\s*false\s*\)", re.IGNORECASE
)


def test_nothing_sets_the_context_for_a_whole_session() -> None:
    sources = [
        p
        for folder in ("assistant", "retrieval", "migrations")
        for p in (PROJECT_ROOT / folder).rglob("*")
        if p.suffix in (".py", ".sql")
    ]
    assert len(sources) > 5
    offenders = [
        str(p.relative_to(PROJECT_ROOT)) for p in sources if SESSION_SET.search(Path(p).read_text())
    ]
    assert offenders == []
