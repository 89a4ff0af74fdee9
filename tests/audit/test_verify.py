"""`audit verify` finds what was changed or removed behind the service's back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg
import pytest

from assistant.audit.service import AuditEvent, Outcome, RequestMeta, record, verify
from assistant.db.session import Database, DbContext, Role
from assistant.tenants.repository import Tenant
from tests.conftest import DatabaseUrls

pytestmark = pytest.mark.anyio


async def write(db: Database, shop: Tenant, n: int, role: Role = Role.TECH) -> None:
    for i in range(n):
        ctx = DbContext(tenant_id=shop.tenant_id, role=role)
        async with db.transaction(ctx) as s:
            await record(
                s,
                ctx,
                AuditEvent(
                    "pii.reveal", Outcome.DENIED, "repair_order", str(i), ("email",), "test"
                ),
                RequestMeta(request_id=f"r{i}"),
            )


async def check(db: Database, shop: Tenant) -> tuple[bool, int | None, str | None]:
    async with db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        report = await verify(s)
    return report.ok, report.first_broken_seq, report.problem


def tamper(owner_url: str, shop: Tenant, statements: Sequence[str]) -> None:
    """As the owner, switching the safeguards off for one committed transaction."""
    with psycopg.connect(owner_url) as conn:
        conn.execute("ALTER TABLE app.audit_log DISABLE TRIGGER audit_log_no_update_delete")
        conn.execute("ALTER TABLE app.audit_log NO FORCE ROW LEVEL SECURITY")
        for statement in statements:
            conn.execute(statement.encode().replace(b":tenant", f"'{shop.tenant_id}'".encode()))
        conn.execute("ALTER TABLE app.audit_log ENABLE TRIGGER audit_log_no_update_delete")
        conn.execute("ALTER TABLE app.audit_log FORCE ROW LEVEL SECURITY")


async def test_an_intact_chain_verifies(app_db: Database, shop: Tenant) -> None:
    await write(app_db, shop, 4)
    assert await check(app_db, shop) == (True, None, None)


async def test_an_updated_row_is_named(
    app_db: Database, shop: Tenant, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 5)
    tamper(
        migrated.owner_url,
        shop,
        ["UPDATE app.audit_log SET outcome = 'allowed' WHERE tenant_id = :tenant AND seq = 3"],
    )
    assert await check(app_db, shop) == (False, 3, "row 3 was changed after it was written")


async def test_a_deleted_row_is_named(
    app_db: Database, shop: Tenant, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 5)
    tamper(
        migrated.owner_url,
        shop,
        ["DELETE FROM app.audit_log WHERE tenant_id = :tenant AND seq = 2"],
    )
    assert await check(app_db, shop) == (False, 2, "row 2 is missing (next present is 3)")


async def test_deleting_the_newest_rows_is_found_too(
    app_db: Database, shop: Tenant, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 5)
    tamper(
        migrated.owner_url,
        shop,
        ["DELETE FROM app.audit_log WHERE tenant_id = :tenant AND seq >= 4"],
    )
    ok, seq, problem = await check(app_db, shop)
    assert (ok, seq) == (False, 4)
    assert problem == "the chain ends at row 3 but 5 rows were written"


async def test_verify_needs_admin(app_db: Database, shop: Tenant) -> None:
    await write(app_db, shop, 2)
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.TECH)) as s:
        report = await verify(s)
    assert report.rows == 0  # a TECH sees no rows and no head: nothing to verify, nothing shown


async def test_eight_concurrent_writers_leave_an_unbroken_chain(
    app_db: Database, shop: Tenant
) -> None:
    await asyncio.gather(*(write(app_db, shop, 6) for _ in range(8)))
    assert await check(app_db, shop) == (True, None, None)
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        assert (await verify(s)).rows == 48
