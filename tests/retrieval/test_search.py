"""Hybrid search on the real database, as the application role."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select, text

from assistant.auth.caller import Caller
from assistant.chat.question import search_as
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from assistant.tenants.service import create_tenant
from retrieval.query import QuestionError
from retrieval.search import FilterError, Filters, Mode
from tests.samples import CUSTOMER, local_model, record

pytestmark = pytest.mark.anyio
OTHER_VIN = "1HGCM82633A004352"


def caller(shop: Tenant, role: Role = Role.TECH) -> Caller:
    return Caller(DbContext(tenant_id=shop.tenant_id, role=role, user_id=None), "t@x", shop.slug)


async def load(db: Database, ring: KeyRing, shop: Tenant, records: list[dict[str, object]]) -> None:
    content = "\n".join(json.dumps(r) for r in records).encode()
    report = await ingest_bytes(db, ring, local_model(), shop.tenant_id, "ros.jsonl", content)
    assert report.rejected == []


def vehicle_records(prefix: str, vin: str, complaint: str) -> list[dict[str, object]]:
    out = []
    for i, job in enumerate(("front brake pads", "oil change", "coolant flush")):
        r = record(ro_number=f"{prefix}{i}", customer={**CUSTOMER, "vin": vin})
        r["lines"][0]["complaint"] = f"{complaint} {job}"
        out.append(r)
    return out


async def test_a_typed_vin_finds_that_vehicle_and_is_never_stored_or_returned(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    mine = vehicle_records("710", CUSTOMER["vin"], "Customer asks for")
    other = vehicle_records("720", OTHER_VIN, "Customer asks for")
    await load(app_db, ring, shop, mine + other)
    result = await search_as(
        app_db,
        ring,
        local_model(),
        caller(shop),
        f"what have we done on vin {OTHER_VIN.lower()}?",
        k=20,
    )
    assert {h.ro_number for h in result.hits} == {"7200", "7201", "7202"}
    assert "vin_bidx" in result.trace.filters
    assert all(OTHER_VIN not in h.content.upper() for h in result.hits)
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)) as s:
        leaked = (
            await s.execute(
                select(func.count())
                .select_from(t.ro_chunks)
                .where(
                    t.ro_chunks.c.content.ilike(f"%{OTHER_VIN}%")
                    | t.ro_chunks.c.content.ilike(f"%{CUSTOMER['vin']}%")
                )
            )
        ).scalar_one()
    assert leaked == 0


async def test_canaries_in_another_shop_never_surface(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    other = await create_tenant(app_db, f"canary-{uuid.uuid4().hex[:8]}", "Canary Shop")
    canary = record(
        ro_number="991177", customer={**CUSTOMER, "vin": OTHER_VIN, "license_plate": "QZX4821"}
    )
    canary["lines"][0]["complaint"] = "Zebracanary whistle from the flux capacitor"
    await load(app_db, ring, other, [canary])
    await load(app_db, ring, shop, vehicle_records("730", CUSTOMER["vin"], "Customer states"))
    questions = [
        "zebracanary whistle flux capacitor",
        "what was done on RO 991177",
        "991177",
        f"history for vin {OTHER_VIN}",
        "plate QZX4821 history",
        "QZX4821",
        "Customer states front brake pads",
    ]
    mine = {
        h.ro_id
        for h in (
            await search_as(app_db, ring, local_model(), caller(shop), "front brake pads", k=50)
        ).hits
    }
    for question in questions:
        for mode in Mode:
            result = await search_as(
                app_db, ring, local_model(), caller(shop, Role.ADMIN), question, k=50, mode=mode
            )
            assert all(h.ro_id in mine for h in result.hits), (question, mode)
            assert all(
                "991177" not in h.content and "zebracanary" not in h.content.lower()
                for h in result.hits
            )


async def test_reingest_leaves_no_stale_chunks_and_deleting_an_ro_deletes_them(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    admin = DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)
    await load(app_db, ring, shop, [record()])

    async def chunks() -> list[tuple[str, str]]:
        async with app_db.transaction(admin) as s:
            rows = await s.execute(
                text(
                    "SELECT c.kind, coalesce(l.line_letter, '-') FROM app.ro_chunks c"
                    " LEFT JOIN app.ro_lines l"
                    " ON l.tenant_id = c.tenant_id AND l.line_id = c.line_id"
                    " ORDER BY 1, 2"
                )
            )
            return [(r[0], r[1]) for r in rows]

    assert await chunks() == [("header", "-"), ("line", "A"), ("line", "B")]
    changed = record()
    changed["lines"] = changed["lines"][:1]
    changed["lines"][0]["correction"] = "Replaced pads only; rotors within spec."
    await load(app_db, ring, shop, [changed])
    assert await chunks() == [("header", "-"), ("line", "A")]
    async with app_db.transaction(admin) as s:
        content = (
            await s.execute(text("SELECT content FROM app.ro_chunks WHERE kind = 'line'"))
        ).scalar_one()
        await s.execute(text("DELETE FROM app.repair_orders WHERE ro_number = '48211'"))
    assert "rotors within spec" in content
    assert await chunks() == []


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01\x02"])
async def test_empty_questions_are_a_clear_error(
    app_db: Database, ring: KeyRing, shop: Tenant, question: str
) -> None:
    with pytest.raises(QuestionError, match="empty"):
        await search_as(app_db, ring, local_model(), caller(shop), question)


async def test_huge_and_odd_questions_give_sane_results(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    await load(app_db, ring, shop, [record()])
    for question in (
        "brake pulsation " * 6500,
        "brake\x00 pulsation\x1b[31m ☃ 😀 ' OR 1=1 --",
        "%_\\'\"; DROP TABLE app.ro_chunks; --",
    ):
        result = await search_as(app_db, ring, local_model(), caller(shop), question, k=5)
        assert len(result.hits) <= 5
    assert (await search_as(app_db, ring, local_model(), caller(shop), "pulsation")).hits


def test_unknown_filters_are_refused() -> None:
    with pytest.raises(FilterError, match="unknown line status"):
        Filters(line_status=("bogus",))
    with pytest.raises(FilterError):
        Filters(
            date_from=__import__("datetime").date(2024, 2, 1),
            date_to=__import__("datetime").date(2024, 1, 1),
        )


async def test_declined_work_filter(app_db: Database, ring: KeyRing, shop: Tenant) -> None:
    await load(app_db, ring, shop, [record()])
    result = await search_as(
        app_db, ring, local_model(), caller(shop), "tires", Filters(line_status=("declined",))
    )
    assert [(h.ro_number, h.line_letter) for h in result.hits] == [("48211", "B")]
