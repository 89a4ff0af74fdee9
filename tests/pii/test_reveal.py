"""The reveal path: role-checked, audited allowed or refused, no value without its audit row."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.pii.reveal import InvalidRevealRequest, Refused, Revealed, reveal
from assistant.tenants.repository import Tenant
from tests.conftest import DatabaseUrls
from tests.samples import local_model, record

pytestmark = pytest.mark.anyio
META = RequestMeta(request_id="req-1", ip="127.0.0.1", user_agent="pytest")


async def ro_id_of(db: Database, shop: Tenant, ring: KeyRing) -> uuid.UUID:
    await ingest_bytes(
        db, ring, local_model(), shop.tenant_id, "ro.json", json.dumps(record()).encode()
    )
    async with db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        return uuid.UUID(str((await s.execute(select(t.repair_orders.c.ro_id))).scalar_one()))


async def audit_rows(db: Database, shop: Tenant) -> list[tuple[object, ...]]:
    async with db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        rows = await s.execute(
            select(
                t.audit_log.c.actor_role,
                t.audit_log.c.outcome,
                t.audit_log.c.pii_fields,
                t.audit_log.c.purpose,
                t.audit_log.c.request_id,
            ).order_by(t.audit_log.c.seq)
        )
        return [tuple(r) for r in rows]


async def attempt(
    db: Database,
    ring: KeyRing,
    ctx: DbContext,
    ro_id: uuid.UUID,
    fields: list[str],
    purpose: str = "customer callback",
) -> Revealed | Refused:
    async with db.transaction(ctx) as session:
        return await reveal(session, ring, ctx, ro_id, fields, purpose, META)


async def test_tech_is_refused_and_the_refusal_is_audited(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    ro_id = await ro_id_of(app_db, shop, ring)
    tech = DbContext(tenant_id=shop.tenant_id, role=Role.TECH, user_id=None)
    result = await attempt(app_db, ring, tech, ro_id, ["email", "phones"])
    assert isinstance(result, Refused)
    assert await audit_rows(app_db, shop) == [
        ("TECH", "denied", ["email", "phones"], "customer callback", "req-1")
    ]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PII_APPROVED])
async def test_admin_and_approved_get_values_with_exactly_one_audit_row(
    app_db: Database, ring: KeyRing, shop: Tenant, role: Role
) -> None:
    ro_id = await ro_id_of(app_db, shop, ring)
    ctx = DbContext(tenant_id=shop.tenant_id, role=role)
    result = await attempt(app_db, ring, ctx, ro_id, ["customer_name", "vin", "address"])
    assert isinstance(result, Revealed)
    assert result.values == {
        "customer_name": "Jordan Blake",
        "vin": "4T1B11HK5JU123456",
        "address": {"street": "12 Elm St", "city": "Tucson", "state": "AZ", "zip": "85701"},
    }
    assert await audit_rows(app_db, shop) == [
        (role.value, "allowed", ["customer_name", "vin", "address"], "customer callback", "req-1")
    ]
    assert "Jordan" not in repr(result)


async def test_another_shops_ro_is_not_found_and_audited(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    other = await ro_id_of(app_db, shop, ring)
    from assistant.tenants.service import create_tenant

    mine = await create_tenant(app_db, f"shop-{uuid.uuid4().hex[:10]}", "Mine")
    ctx = DbContext(tenant_id=mine.tenant_id, role=Role.ADMIN)
    result = await attempt(app_db, ring, ctx, other, ["email"])
    assert result == Refused("no such repair order", not_found=True)
    assert [r[1] for r in await audit_rows(app_db, mine)] == ["denied"]


async def test_malformed_requests_read_nothing_and_write_nothing(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    ro_id = await ro_id_of(app_db, shop, ring)
    ctx = DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)
    for fields, purpose in ((["ssn"], "x"), ([], "x"), (["email"], "  ")):
        with pytest.raises(InvalidRevealRequest):
            await attempt(app_db, ring, ctx, ro_id, fields, purpose)
    assert await audit_rows(app_db, shop) == []


async def test_undecryptable_vault_is_refused_not_garbage(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    ro_id = await ro_id_of(app_db, shop, ring)
    result = await attempt(
        app_db,
        KeyRing.generate(),
        DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN),
        ro_id,
        ["email"],
    )
    assert result == Refused("the stored PII could not be decrypted")
    # The database logged the read it allowed; the service adds that no value came of it.
    assert [(r[1], r[3]) for r in await audit_rows(app_db, shop)] == [
        ("allowed", "customer callback"),
        ("denied", "decryption failed"),
    ]


@contextmanager
def audit_inserts_fail(owner_url: str) -> Iterator[None]:
    """Makes the database refuse audit rows with this purpose, as a full disk or a bug would."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE app.audit_log ADD CONSTRAINT test_refuse_audit"
            " CHECK (purpose IS DISTINCT FROM 'audit-must-fail') NOT VALID"
        )
    try:
        yield
    finally:
        with psycopg.connect(owner_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE app.audit_log DROP CONSTRAINT test_refuse_audit")


async def test_no_audit_row_means_no_value(
    app_db: Database, ring: KeyRing, shop: Tenant, migrated: DatabaseUrls
) -> None:
    ro_id = await ro_id_of(app_db, shop, ring)
    ctx = DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)
    revealed: list[Revealed | Refused] = []
    with audit_inserts_fail(migrated.owner_url), pytest.raises(IntegrityError):
        revealed.append(await attempt(app_db, ring, ctx, ro_id, ["email"], "audit-must-fail"))
    assert revealed == []
    assert await audit_rows(app_db, shop) == []


async def test_a_ciphertext_moved_to_another_ro_in_the_database_is_refused(
    app_db: Database, ring: KeyRing, shop: Tenant, migrated: DatabaseUrls
) -> None:
    lines = "\n".join(json.dumps(record(ro_number=n)) for n in ("1", "2"))
    await ingest_bytes(app_db, ring, local_model(), shop.tenant_id, "two.jsonl", lines.encode())
    with psycopg.connect(migrated.owner_url) as conn:
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.role', 'ADMIN', true)",
            [str(shop.tenant_id)],
        )
        first, second = conn.execute(
            "SELECT v.ro_id FROM app.pii_vault v JOIN app.repair_orders r USING (ro_id)"
            " ORDER BY r.ro_number"
        ).fetchall()
        # Move RO 1's sealed payload onto RO 2 (the nonce may exist only once per key).
        sealed = conn.execute(
            "DELETE FROM app.pii_vault WHERE ro_id = %s RETURNING nonce, ciphertext", [first[0]]
        ).fetchone()
        assert sealed is not None
        conn.execute(
            "UPDATE app.pii_vault SET nonce = %s, ciphertext = %s WHERE ro_id = %s",
            [sealed[0], sealed[1], second[0]],
        )
    ctx = DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)
    moved = await attempt(app_db, ring, ctx, second[0], ["email"])
    assert moved == Refused("the stored PII could not be decrypted")
