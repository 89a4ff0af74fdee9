"""The keyed customer-term index: written at ingest, rebuilt from the vault on demand,
keyed per shop, writable by ADMIN only."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import ProgrammingError

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii import customer_terms
from assistant.pii.customer_terms import TermKind, term_hash
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from assistant.tenants.service import create_tenant
from tests.conftest import DatabaseUrls
from tests.db.seed import set_context
from tests.samples import CUSTOMER, local_model, record

pytestmark = pytest.mark.anyio


def _terms(migrated: DatabaseUrls, shop: Tenant) -> set[tuple[str, bytes]]:
    """What the index holds, as the owner reads it (the app role cannot)."""
    with psycopg.connect(migrated.owner_url) as conn:
        set_context(conn, shop.tenant_id, "TECH")
        rows = conn.execute("SELECT kind, term FROM app.customer_terms").fetchall()
    return {(kind, bytes(term)) for kind, term in rows}


async def test_ingest_writes_keyed_terms_and_rebuild_restores_them(
    app_db: Database, migrated: DatabaseUrls, shop: Tenant, ring: KeyRing
) -> None:
    report = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "ro.json", json.dumps(record()).encode()
    )
    assert not report.rejected
    written = _terms(migrated, shop)
    name = term_hash(ring, shop.tenant_id, TermKind.NAME, "jordan blake")
    assert ("name", name) in written
    assert ("phone", term_hash(ring, shop.tenant_id, TermKind.PHONE, "5552017781")) in written
    assert ("street", term_hash(ring, shop.tenant_id, TermKind.STREET, "12 elm")) in written
    stored = b"".join(term for _, term in written)
    assert CUSTOMER["name"].encode() not in stored

    admin = DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)
    async with app_db.transaction(admin) as s:
        await s.execute(delete(t.customer_terms))
    assert _terms(migrated, shop) == set()
    meta = RequestMeta(request_id=f"rebuild-{shop.slug}")
    assert await customer_terms.rebuild(app_db, ring, shop.tenant_id, meta, batch_size=1) == 1
    assert _terms(migrated, shop) == written
    async with app_db.transaction(admin) as s:
        audited = (
            await s.execute(
                select(func.count()).where(
                    t.audit_log.c.request_id == meta.request_id,
                    t.audit_log.c.purpose == customer_terms.REBUILD_PURPOSE,
                    t.audit_log.c.outcome == "allowed",
                )
            )
        ).scalar_one()
    assert audited == 1


async def test_the_same_customer_hashes_differently_in_another_shop(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    other = await create_tenant(app_db, f"{shop.slug}-b", "Other")
    one = term_hash(ring, shop.tenant_id, TermKind.NAME, "jordan blake")
    two = term_hash(ring, other.tenant_id, TermKind.NAME, "jordan blake")
    assert one != two


async def test_a_tech_cannot_write_terms(app_db: Database, shop: Tenant, ring: KeyRing) -> None:
    await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "ro.json", json.dumps(record()).encode()
    )
    tech = DbContext(tenant_id=shop.tenant_id, role=Role.TECH)
    async with app_db.transaction(tech) as s:
        ro_id = (await s.execute(select(t.repair_orders.c.ro_id))).scalar_one()
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_db.transaction(tech) as s:
            await s.execute(
                insert(t.customer_terms).values(
                    tenant_id=shop.tenant_id, ro_id=ro_id, kind="name", term=b"x" * 32
                )
            )


async def test_the_app_role_asks_but_never_reads_the_hashes(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "ro.json", json.dumps(record()).encode()
    )
    admin = DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with app_db.transaction(admin) as s:
            await s.execute(select(t.customer_terms.c.term))
    name = term_hash(ring, shop.tenant_id, TermKind.NAME, "jordan blake")
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.TECH)) as s:
        found = await customer_terms.lookup(s, [name, b"y" * 32])
    assert {k: (m.kind, m.ro_number) for k, m in found.items()} == {name: (TermKind.NAME, "48211")}
