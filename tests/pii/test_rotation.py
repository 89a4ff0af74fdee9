"""The rotation drill: new key, rotate, interrupt half-way, rotate again, nothing lost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii import documents, rotation, vault
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from tests.samples import local_model, record

pytestmark = pytest.mark.anyio
META = RequestMeta(request_id="rotation-test")


class Interrupted(Exception):
    pass


async def key_refs(db: Database, shop: Tenant) -> list[str]:
    async with db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        rows = await s.execute(
            select(t.pii_vault.c.key_ref).union_all(select(t.documents.c.content_key_ref))
        )
        return sorted(str(r[0]) for r in rows)


async def test_rotation_survives_an_interruption_and_loses_nothing(
    app_db: Database, shop: Tenant
) -> None:
    old = KeyRing.generate()
    lines = "\n".join(json.dumps(record(ro_number=str(5000 + i))) for i in range(9))
    report = await ingest_bytes(
        app_db, old, local_model(), shop.tenant_id, "nine.jsonl", lines.encode()
    )
    assert not report.rejected
    new = old.with_new_active_key()
    assert set(await key_refs(app_db, shop)) == {old.active}

    def stop_after_first_batch(_done: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await rotation.rotate_tenant(
            app_db, new, shop.tenant_id, batch_size=4, after_batch=stop_after_first_batch
        )
    halfway = await key_refs(app_db, shop)
    assert halfway.count(new.active) == 4
    assert halfway.count(old.active) == 6  # 5 vault rows and the document

    result = await rotation.rotate_tenant(app_db, new, shop.tenant_id, batch_size=4)
    assert result.ok
    assert (result.rotated, result.remaining_on_old_keys, result.verified) == (6, 0, 10)
    assert set(await key_refs(app_db, shop)) == {new.active}

    # Nothing depends on the old key any more: drop it and every row still opens.
    without_old = KeyRing(
        active=new.active,
        keys={new.active: new.keys[new.active]},
        blind_index_key=new.blind_index_key,
    )
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        ro_ids = (await s.execute(select(t.repair_orders.c.ro_id))).scalars().all()
        payloads = []
        for ro_id in ro_ids:
            read = await vault.fetch_audited(s, ro_id, ["customer_name"], "rotation drill", META)
            assert read.sealed is not None
            payloads.append(vault.open_payload(without_old, shop.tenant_id, ro_id, read.sealed))
        doc_id = (await s.execute(select(t.documents.c.doc_id))).scalar_one()
        original = await documents.read_original(s, without_old, shop.tenant_id, doc_id)
    assert [p["customer_name"] for p in payloads] == ["Jordan Blake"] * 9
    assert original == lines.encode()


async def test_a_row_that_does_not_decrypt_is_reported_not_hidden(
    app_db: Database, shop: Tenant
) -> None:
    ring = KeyRing.generate()
    await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "one.json", json.dumps(record()).encode()
    )
    stranger = KeyRing.generate()  # its active key is new, but the old one is unknown to it
    result = await rotation.rotate_tenant(app_db, stranger, shop.tenant_id)
    assert not result.ok
    assert result.undecryptable == 2
    assert result.remaining_on_old_keys == 2


async def test_every_rotation_batch_of_the_vault_is_on_record(
    app_db: Database, shop: Tenant
) -> None:
    old = KeyRing.generate()
    lines = "\n".join(json.dumps(record(ro_number=str(6000 + i))) for i in range(3))
    await ingest_bytes(app_db, old, local_model(), shop.tenant_id, "three.jsonl", lines.encode())
    new = old.with_new_active_key()
    meta = RequestMeta(request_id="rotate-run-1", user_agent="ro-assistant keys rotate")
    result = await rotation.rotate_tenant(app_db, new, shop.tenant_id, batch_size=2, meta=meta)
    assert (result.ok, result.rotated, result.verified) == (True, 4, 4)
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        rows = (
            await s.execute(
                select(
                    t.audit_log.c.actor_role,
                    t.audit_log.c.outcome,
                    t.audit_log.c.purpose,
                    t.audit_log.c.object_id,
                    t.audit_log.c.request_id,
                    t.audit_log.c.user_agent,
                )
                .where(t.audit_log.c.action == "pii.rotate")
                .order_by(t.audit_log.c.seq)
            )
        ).all()
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [
        ("ADMIN", "allowed", "rotate-run-1", "ro-assistant keys rotate")
    ] * 3
    assert [(r[2], r[3].split(",")[0]) for r in rows] == [
        (f"re-encrypt to key {new.active}", "2 rows"),
        (f"re-encrypt to key {new.active}", "1 rows"),
        (f"verify rotation to key {new.active}", "3 rows"),
    ]
