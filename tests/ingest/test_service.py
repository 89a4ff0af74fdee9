"""Ingestion into the real database: scrubbed, sealed, atomic per RO, idempotent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import Outcome, ingest_bytes
from assistant.pii import blind_index, documents, vault
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from tests.samples import CUSTOMER, local_model, record

pytestmark = pytest.mark.anyio


def admin(shop: Tenant) -> DbContext:
    return DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)


async def ingest_json(
    db: Database, ring: KeyRing, shop: Tenant, name: str, payload: object
) -> dict[Outcome, int]:
    report = await ingest_bytes(
        db, ring, local_model(), shop.tenant_id, name, json.dumps(payload).encode()
    )
    assert report.rejected == []
    return report.counts


async def test_ingest_then_identical_then_changed(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    first = await ingest_json(app_db, ring, shop, "ro.json", record())
    again = await ingest_json(app_db, ring, shop, "ro.json", record())
    changed = record()
    changed["lines"][0]["correction"] = "Replaced front pads and rotors, bedded pads, road tested."
    changed["lines"] = changed["lines"][:1]
    updated = await ingest_json(app_db, ring, shop, "ro-v2.json", changed)
    assert (first[Outcome.INGESTED], again[Outcome.UNCHANGED], updated[Outcome.UPDATED]) == (
        1,
        1,
        1,
    )
    async with app_db.transaction(admin(shop)) as s:
        ros = (await s.execute(select(func.count()).select_from(t.repair_orders))).scalar_one()
        lines = (await s.execute(select(t.ro_lines.c.line_letter, t.ro_lines.c.correction))).all()
        docs = (await s.execute(select(func.count()).select_from(t.documents))).scalar_one()
        parts = (await s.execute(select(func.count()).select_from(t.ro_parts_lines))).scalar_one()
    assert ros == 1
    assert lines == [("A", "Replaced front pads and rotors, bedded pads, road tested.")]
    assert docs == 2
    assert parts == 2


async def test_stored_text_is_scrubbed_and_pii_is_only_sealed(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    source = json.dumps(record()).encode()
    report = await ingest_bytes(app_db, ring, local_model(), shop.tenant_id, "ro.json", source)
    assert report.counts[Outcome.INGESTED] == 1
    async with app_db.transaction(admin(shop)) as s:
        ro = (await s.execute(select(t.repair_orders))).one()._mapping
        line_a = (
            await s.execute(
                select(t.ro_lines.c.complaint, t.ro_lines.c.cause).where(
                    t.ro_lines.c.line_letter == "A"
                )
            )
        ).one()
        read = await vault.fetch_audited(
            s, ro["ro_id"], vault.PII_FIELDS, "ingest test", RequestMeta()
        )
        original = await documents.read_original(s, ring, shop.tenant_id, ro["doc_id"])
    assert "Jordan" not in line_a.complaint
    assert "555.201.7781" not in line_a.complaint
    assert "[CUSTOMER_NAME]" in line_a.complaint
    assert "[PHONE]" in line_a.complaint
    assert "BXR" not in line_a.cause
    assert "[LICENSE_PLATE]" in line_a.cause
    assert ro["vin_bidx"] == blind_index.vin_index(ring, shop.tenant_id, CUSTOMER["vin"])
    assert ro["plate_bidx"] == blind_index.plate_index(ring, shop.tenant_id, "BXR4471")
    assert read.sealed is not None
    payload = vault.open_payload(ring, shop.tenant_id, ro["ro_id"], read.sealed)
    assert payload["customer_name"] == "Jordan Blake"
    assert payload["phones"] == ["(555) 201-7781"]
    assert original == source
    assert b"dms_extra" in original


async def test_bad_records_are_rejected_with_positions_and_the_good_ones_stored(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    negative = record(ro_number="900")
    negative["lines"][0]["parts"][0]["quantity"] = -2
    wrong_types = record(ro_number="901", vehicle={"year": "twenty", "mileage_in": "lots"})
    nul_byte = record(ro_number="902")
    nul_byte["lines"][0]["parts"][1]["description"] = "rotor\x00"
    lines = [
        json.dumps(record(ro_number="800")),
        "{this is not json",
        json.dumps({"lines": [{"line": "A", "status": "completed"}]}),
        json.dumps(negative),
        json.dumps(wrong_types),
        json.dumps(nul_byte),
        json.dumps(record(ro_number="801")),
        json.dumps(["not", "an", "object"]),
    ]
    report = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "batch.jsonl", "\n".join(lines).encode()
    )
    assert report.counts[Outcome.INGESTED] == 2
    rejected = {r.position: r for r in report.rejected}
    assert sorted(rejected) == [f"batch.jsonl:{n}" for n in (2, 3, 4, 5, 6, 8)]
    assert "malformed JSON" in rejected["batch.jsonl:2"].reasons[0]
    assert rejected["batch.jsonl:3"].reasons == ("ro_number: Field required",)
    assert rejected["batch.jsonl:4"].ro_number == "900"
    assert (
        "lines.0.parts.0.quantity: Input should be greater than 0"
        in rejected["batch.jsonl:4"].reasons
    )
    assert {r.split(":")[0] for r in rejected["batch.jsonl:5"].reasons} == {
        "vehicle.year",
        "vehicle.mileage_in",
    }
    assert rejected["batch.jsonl:6"].ro_number == "902"
    assert "database refused" in rejected["batch.jsonl:6"].reasons[0]
    async with app_db.transaction(admin(shop)) as s:
        numbers = (
            (
                await s.execute(
                    select(t.repair_orders.c.ro_number).order_by(t.repair_orders.c.ro_number)
                )
            )
            .scalars()
            .all()
        )
        orphans = (
            await s.execute(
                text(
                    "SELECT count(*) FROM app.ro_lines l WHERE NOT EXISTS"
                    " (SELECT 1 FROM app.repair_orders r WHERE r.ro_id = l.ro_id)"
                )
            )
        ).scalar_one()
    assert numbers == ["800", "801"]
    assert orphans == 0


async def test_an_unreadable_file_stores_nothing(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    report = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "scan.pdf", b"%PDF-1.4 junk"
    )
    assert [r.position for r in report.rejected] == ["scan.pdf"]
    async with app_db.transaction(admin(shop)) as s:
        assert (await s.execute(select(func.count()).select_from(t.documents))).scalar_one() == 0


async def test_a_tech_context_cannot_ingest(app_db: Database, ring: KeyRing, shop: Tenant) -> None:
    """The vault refuses a TECH's write, so the whole RO is refused (nothing half-written)."""
    from assistant.ingest.records import validate
    from assistant.ingest.service import store_repair_order
    from assistant.pii.documents import SourceDocument

    parsed, _ = validate(record(ro_number="777"))
    assert parsed is not None
    doc = SourceDocument.seal_file(ring, shop.tenant_id, "x.json", "application/json", b"{}")
    with pytest.raises(Exception, match="row-level security"):
        async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.TECH)) as s:
            await store_repair_order(s, ring, local_model(), shop.tenant_id, doc, parsed)
    async with app_db.transaction(admin(shop)) as s:
        assert (
            await s.execute(select(func.count()).select_from(t.repair_orders))
        ).scalar_one() == 0
