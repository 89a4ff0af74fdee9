"""Estimate drafts on the demo shops, checked against figures recomputed from the tables."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.db.session import Database, DbContext, Role
from assistant.estimates.drafts import (
    Citation,
    EstimateDraft,
    EstimateError,
    EstimateRequest,
    VehicleNotFound,
    VehicleUsed,
)
from assistant.estimates.service import NO_MATCH
from assistant.pii import vault
from assistant.pii.keyring import KeyRing
from assistant.tenants.service import find_tenant
from tests.estimates.conftest import draft

pytestmark = pytest.mark.anyio
CENT = Decimal("0.01")
MONEY = re.compile(r"^-?\d+\.\d{2}$")
_LINE = (
    " FROM app.ro_lines l JOIN app.repair_orders r"
    " ON r.tenant_id = l.tenant_id AND r.ro_id = l.ro_id"
)


async def fetch(db: Database, tenant: UUID, sql: str, **params: Any) -> Sequence[Any]:
    async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as session:
        return (await session.execute(text(sql), {"t": tenant, **params})).all()


def median(values: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(values)).quantize(CENT, ROUND_HALF_UP)


async def common_job(db: Database, tenant: UUID, rank: int) -> Any:
    """The shop's rank-th most common completed operation, on the vehicle it was done to most."""
    completed = (
        " FROM app.ro_labor_lines lb JOIN app.ro_lines l"
        " ON l.tenant_id = lb.tenant_id AND l.line_id = lb.line_id"
        " JOIN app.repair_orders r ON r.tenant_id = lb.tenant_id AND r.ro_id = lb.ro_id"
        " WHERE lb.tenant_id = :t AND l.status = 'completed' AND lb.operation IS NOT NULL"
    )
    (op,) = (
        await fetch(
            db,
            tenant,
            "SELECT lb.operation" + completed + " GROUP BY 1 ORDER BY count(*) DESC, 1"
            " LIMIT 1 OFFSET :rank",
            rank=rank,
        )
    )[0]
    rows = await fetch(
        db,
        tenant,
        "SELECT lb.operation, min(lb.description), r.vehicle_make, r.vehicle_model,"
        " r.vehicle_year, count(*)" + completed + " AND lb.operation = :op"
        " GROUP BY 1, 3, 4, 5 ORDER BY 6 DESC, 3, 4, 5 LIMIT 1",
        op=op,
    )
    return rows[0]


async def cited_line(db: Database, tenant: UUID, c: Citation) -> Any:
    rows = await fetch(
        db,
        tenant,
        "SELECT l.status, r.ro_number, r.ro_open_date, r.vehicle_make, r.vehicle_model,"
        " r.vehicle_year" + _LINE + " WHERE l.tenant_id = :t AND r.tenant_id = :t"
        " AND l.ro_id = :ro AND l.line_letter = :letter",
        ro=c.ro_id,
        letter=c.line_letter,
    )
    assert len(rows) == 1, c
    return rows[0]


def all_citations(d: EstimateDraft) -> set[Citation]:
    return {c for item in d.labor for c in item.citations} | {
        c for part in d.parts for c in part.citations
    }


async def assert_cites_only_similar_completed_lines(
    db: Database, tenant: UUID, d: EstimateDraft
) -> None:
    assert d.vehicle.year is not None
    assert d.matched_years == (d.vehicle.year - 2, d.vehicle.year + 2)
    for c in all_citations(d):
        status, ro_number, opened, make, model, year = await cited_line(db, tenant, c)
        assert status == "completed"
        assert (ro_number, opened) == (c.ro_number, c.date)
        assert c.vehicle == f"{year} {make} {model}"
        assert (make.lower(), model.lower()) == (d.vehicle.make.lower(), d.vehicle.model.lower())
        assert abs(year - d.vehicle.year) <= 2


@pytest.mark.parametrize("rank", [0, 1, 2])
async def test_a_common_job_is_priced_from_the_medians_of_the_lines_it_cites(
    db: Database, keys: KeyRing, desert: UUID, rank: int
) -> None:
    op, description, make, model, year, _ = await common_job(db, desert, rank)
    d = await draft(
        db, keys, desert, EstimateRequest(description, year, make.upper(), model.lower())
    )
    assert (d.vehicle.year, d.vehicle.make, d.vehicle.model) == (year, make, model)
    assert op in {item.operation for item in d.labor}
    await assert_cites_only_similar_completed_lines(db, desert, d)
    cited = {(c.ro_id, c.line_letter) for c in all_citations(d)}
    ops_on_cited = set()
    for ro_id, letter in cited:
        found = await fetch(
            db,
            desert,
            "SELECT lb.operation FROM app.ro_labor_lines lb JOIN app.ro_lines l"
            " ON l.tenant_id = lb.tenant_id AND l.line_id = lb.line_id"
            " WHERE lb.tenant_id = :t AND l.ro_id = :ro AND l.line_letter = :letter",
            ro=ro_id,
            letter=letter,
        )
        ops_on_cited |= {r[0] for r in found}
    assert ops_on_cited == {item.operation for item in d.labor}
    for item in d.labor:
        assert item.samples == len(item.citations) > 0
        sums = [
            (
                await fetch(
                    db,
                    desert,
                    "SELECT sum(lb.hours), sum(lb.amount) FROM app.ro_labor_lines lb"
                    " JOIN app.ro_lines l ON l.tenant_id = lb.tenant_id AND l.line_id = lb.line_id"
                    " WHERE lb.tenant_id = :t AND l.ro_id = :ro AND l.line_letter = :letter"
                    " AND lb.operation = :op",
                    ro=c.ro_id,
                    letter=c.line_letter,
                    op=item.operation,
                )
            )[0]
            for c in item.citations
        ]
        hours, amounts = [s[0] for s in sums], [s[1] for s in sums]
        assert item.hours == median(hours)
        assert item.amount == median(amounts)
        assert item.hours_range == (min(hours), max(hours))
        assert item.amount_range == (min(amounts), max(amounts))


async def test_parts_tax_and_totals_come_from_the_shop_own_records(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    op, description, make, model, year, done = await common_job(db, desert, 0)
    d = await draft(db, keys, desert, EstimateRequest(description, year, make, model))
    (job,) = [item for item in d.labor if item.operation == op]
    assert done >= 2
    assert job.samples >= 2  # the same work on the very same model year is found again
    lines = {(c.ro_id, c.line_letter) for c in job.citations}
    on_lines: dict[str, dict[tuple[UUID, str], tuple[Decimal, Decimal]]] = {}
    for ro_id, letter in lines:
        for number, quantity, spent in await fetch(
            db,
            desert,
            "SELECT p.part_number, sum(p.quantity), sum(p.quantity * p.unit_price)"
            " FROM app.ro_parts_lines p JOIN app.ro_lines l"
            " ON l.tenant_id = p.tenant_id AND l.line_id = p.line_id"
            " WHERE p.tenant_id = :t AND l.ro_id = :ro AND l.line_letter = :letter"
            " GROUP BY p.part_number",
            ro=ro_id,
            letter=letter,
        ):
            on_lines.setdefault(number, {})[(ro_id, letter)] = (quantity, spent)
    assert d.parts
    assert {p.part_number for p in d.parts} == set(on_lines)
    for part in d.parts:
        used = on_lines[part.part_number or ""]
        assert {(c.ro_id, c.line_letter) for c in part.citations} == set(used)
        prices = [(spent / q).quantize(CENT, ROUND_HALF_UP) for q, spent in used.values()]
        assert part.unit_price == median(prices)
        assert part.price_range == (min(prices), max(prices))
        assert part.quantity == median([q for q, _ in used.values()])
        assert part.samples == len(used)
        assert part.total == (part.quantity * part.unit_price).quantize(CENT, ROUND_HALF_UP)

    ratios = [
        tax / (parts + supplies)
        for tax, parts, supplies in await fetch(
            db,
            desert,
            "SELECT tax_total, coalesce(parts_total, 0), coalesce(shop_supplies, 0)"
            " FROM app.repair_orders WHERE tenant_id = :t AND tax_total IS NOT NULL",
        )
        if parts + supplies > 0
    ]
    assert len(ratios) > 100
    rate = Decimal(statistics.median(ratios)).quantize(Decimal("0.00001"), ROUND_HALF_UP)
    assert d.tax_rate == rate
    assert Decimal("0.01") < rate < Decimal("0.15")
    assert d.subtotal_labor == sum(item.amount for item in d.labor)
    assert d.subtotal_parts == sum(p.total for p in d.parts if not p.alternative) > 0
    assert d.tax == (rate * d.subtotal_parts).quantize(CENT, ROUND_HALF_UP)
    assert d.total == d.subtotal_labor + d.subtotal_parts + d.tax
    assert NO_MATCH not in d.notes

    plain = json.loads(json.dumps(d.as_dict()))
    for key in ("subtotal_labor", "subtotal_parts", "tax", "total"):
        assert MONEY.match(plain[key]), plain[key]
    first = d.labor[0].citations[0]
    _, _, _, cited_make, cited_model, cited_year = await cited_line(db, desert, first)
    assert plain["labor"][0]["citations"][0] == {
        "ro_id": str(first.ro_id),
        "ro_number": first.ro_number,
        "line_letter": first.line_letter,
        "date": first.date.isoformat() if first.date else None,
        "vehicle": f"{cited_year} {cited_make} {cited_model}",
    }


async def vehicle_with_open_work(db: Database, tenant: UUID) -> tuple[str, bytes]:
    """The newest RO of the returning vehicle with most ROs that has declined or recommended
    work on an earlier RO: that history can only come through the VIN index."""
    rows = await fetch(
        db,
        tenant,
        "SELECT r.vin_bidx, r.ro_number, (SELECT r2.ro_number FROM app.repair_orders r2"
        "  WHERE r2.tenant_id = :t AND r2.vin_bidx = r.vin_bidx"
        "  ORDER BY r2.ro_open_date DESC, r2.ro_number DESC LIMIT 1),"
        " (SELECT count(*) FROM app.repair_orders r2"
        "  WHERE r2.tenant_id = :t AND r2.vin_bidx = r.vin_bidx)"
        + _LINE
        + " WHERE l.tenant_id = :t AND r.tenant_id = :t AND r.vin_bidx IS NOT NULL"
        " AND l.status IN ('declined', 'recommended')",
    )
    found = sorted(
        (-count, newest, bidx) for bidx, number, newest, count in rows if number != newest
    )
    assert found, "the demo shop has no returning vehicle with declined work"
    return found[0][1], found[0][2]


async def test_by_ro_number_the_vehicle_and_its_declined_work_come_along(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    ro_number, vin_bidx = await vehicle_with_open_work(db, desert)
    d = await draft(db, keys, desert, EstimateRequest("oil change", ro_number=f" #{ro_number} "))
    ((year, make, model),) = await fetch(
        db,
        desert,
        "SELECT vehicle_year, vehicle_make, vehicle_model FROM app.repair_orders"
        " WHERE tenant_id = :t AND ro_number = :n",
        n=ro_number,
    )
    assert (d.vehicle.year, d.vehicle.make, d.vehicle.model) == (year, make, model)
    assert d.vehicle.identified_by == "ro_number"
    expected = await fetch(
        db,
        desert,
        "SELECT r.ro_number, l.line_letter, l.status, r.ro_open_date"
        + _LINE
        + " WHERE l.tenant_id = :t AND r.tenant_id = :t AND r.vin_bidx = :b"
        " AND l.status IN ('declined', 'recommended')",
        b=vin_bidx,
    )
    assert {(h.ro_number, h.line_letter, h.status, h.date) for h in d.related_history} == {
        tuple(r) for r in expected
    }
    assert len(d.related_history) == len(expected)
    assert any(h.ro_number != ro_number for h in d.related_history)
    assert all(h.summary for h in d.related_history)

    by_model = await draft(db, keys, desert, EstimateRequest("oil change", year, make, model))
    assert by_model.related_history == ()
    assert by_model.labor == d.labor


async def test_a_vin_finds_the_vehicle_typed_or_given_and_never_comes_back(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    ro_number, _ = await vehicle_with_open_work(db, desert)
    by_ro = await draft(db, keys, desert, EstimateRequest("front brakes", ro_number=ro_number))
    ((ro_id,),) = await fetch(
        db,
        desert,
        "SELECT ro_id FROM app.repair_orders WHERE tenant_id = :t AND ro_number = :n",
        n=ro_number,
    )
    async with db.transaction(DbContext(tenant_id=desert, role=Role.ADMIN)) as session:
        vin = (await vault_payloads(session, keys, desert, {ro_id}))[0]["vin"]
    given = await draft(db, keys, desert, EstimateRequest("front brakes", vin=f" {vin.lower()}"))
    typed = await draft(db, keys, desert, EstimateRequest(f"front brakes on vin {vin}"))
    for d in (given, typed):
        assert d.vehicle == VehicleUsed(
            by_ro.vehicle.year, by_ro.vehicle.make, by_ro.vehicle.model, "vin"
        )
        assert d.related_history == by_ro.related_history
        assert vin.lower() not in json.dumps(d.as_dict()).lower()
    assert given.labor == by_ro.labor
    with pytest.raises(VehicleNotFound):
        await draft(db, keys, desert, EstimateRequest("front brakes", vin="1HGCM82633A004352"))


async def test_bad_requests_are_refused_and_unknown_vehicles_get_an_empty_draft(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    lakeside = (await find_tenant(db, "lakeside-motors")).tenant_id
    theirs = {r[0] for r in await fetch(db, lakeside, "SELECT ro_number FROM app.repair_orders")}
    ours = {r[0] for r in await fetch(db, desert, "SELECT ro_number FROM app.repair_orders")}
    assert theirs
    assert ours
    foreign = min(theirs - ours)
    with pytest.raises(VehicleNotFound):
        await draft(db, keys, desert, EstimateRequest("oil change", ro_number=foreign))
    assert (await draft(db, keys, lakeside, EstimateRequest("oil change", ro_number=foreign))).labor

    empty = await draft(db, keys, desert, EstimateRequest("front brakes", 2018, "Zastava", "Yugo"))
    assert (empty.labor, empty.parts, empty.related_history) == ((), (), ())
    assert empty.subtotal_labor == empty.subtotal_parts == empty.tax == empty.total == 0
    assert NO_MATCH in empty.notes
    assert json.loads(json.dumps(empty.as_dict()))["total"] == "0.00"

    for request in (
        EstimateRequest("   ", 2018, "Toyota", "Camry"),
        EstimateRequest("x" * 2001, 2018, "Toyota", "Camry"),
        EstimateRequest("front brakes"),
        EstimateRequest("front brakes", 2018, "Toyota"),
        EstimateRequest("front brakes", 20018, "Toyota", "Camry"),
    ):
        with pytest.raises(EstimateError) as raised:
            await draft(db, keys, desert, request)
        assert not isinstance(raised.value, VehicleNotFound)


async def vault_payloads(
    session: AsyncSession, keys: KeyRing, tenant: UUID, ro_ids: set[UUID]
) -> list[dict[str, Any]]:
    out = []
    for ro_id in sorted(ro_ids):
        read = await vault.fetch_audited(
            session, ro_id, vault.PII_FIELDS, "estimate leak test", RequestMeta()
        )
        assert read.sealed is not None
        out.append(vault.open_payload(keys, tenant, ro_id, read.sealed))
    return out


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


async def test_no_vault_value_of_a_cited_or_related_ro_is_in_the_draft(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    ro_number, _ = await vehicle_with_open_work(db, desert)
    d = await draft(db, keys, desert, EstimateRequest("oil and filter change", ro_number=ro_number))
    ro_ids = {c.ro_id for c in all_citations(d)} | {h.ro_id for h in d.related_history}
    assert d.labor
    assert d.related_history
    async with db.transaction(DbContext(tenant_id=desert, role=Role.ADMIN)) as session:
        payloads = await vault_payloads(session, keys, desert, ro_ids)
    # Whole values only: a five-digit zip or a two-letter state can turn up inside a UUID
    # or a word without being a leak (the same rule as tests/test_pii_leaks.py).
    values = {s.lower() for p in payloads for s in strings(p) if len(s) >= 6}
    assert any(len(v) == 17 for v in values)  # the VINs are among them
    dumped = json.dumps(d.as_dict()).lower()
    assert [v for v in values if v in dumped] == []
