"""SQL for finding and reading repair orders, their lines and vehicles (the tables hold no
PII; vehicles are found by blind index, customers through the customer-term functions)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t
from assistant.pii.customer_terms import SAME_CUSTOMER_KINDS

_HEADER_SKIP = {"tenant_id", "vin_bidx", "plate_bidx", "fingerprint", "doc_id"}


async def header(session: AsyncSession, tenant_id: UUID, ro_id: UUID) -> dict[str, Any] | None:
    r = t.repair_orders
    columns = [c for c in r.c if c.name not in _HEADER_SKIP]
    row = (
        await session.execute(
            select(*columns).where(r.c.tenant_id == tenant_id, r.c.ro_id == ro_id)
        )
    ).first()
    return dict(row._mapping) if row else None


async def lines(session: AsyncSession, tenant_id: UUID, ro_id: UUID) -> list[dict[str, Any]]:
    lines_t, labor_t, parts_t = t.ro_lines, t.ro_labor_lines, t.ro_parts_lines
    rows = await session.execute(
        select(
            lines_t.c.line_id,
            lines_t.c.line_letter,
            lines_t.c.status,
            lines_t.c.complaint,
            lines_t.c.cause,
            lines_t.c.correction,
        )
        .where(lines_t.c.tenant_id == tenant_id, lines_t.c.ro_id == ro_id)
        .order_by(lines_t.c.line_letter)
    )
    out = {r.line_id: dict(r._mapping) | {"labor": [], "parts": []} for r in rows}
    items = {
        "labor": select(
            labor_t.c.line_id,
            labor_t.c.operation,
            labor_t.c.description,
            labor_t.c.technician_name,
            labor_t.c.technician_code,
            labor_t.c.hours,
            labor_t.c.amount,
            labor_t.c.pay_type,
        )
        .where(labor_t.c.tenant_id == tenant_id, labor_t.c.ro_id == ro_id)
        .order_by(labor_t.c.labor_id),
        "parts": select(
            parts_t.c.line_id,
            parts_t.c.part_number,
            parts_t.c.description,
            parts_t.c.quantity,
            parts_t.c.unit_price,
            parts_t.c.line_total,
        )
        .where(parts_t.c.tenant_id == tenant_id, parts_t.c.ro_id == ro_id)
        .order_by(parts_t.c.part_line_id),
    }
    for kind, query in items.items():
        for row in await session.execute(query):
            item = dict(row._mapping)
            if (line := out.get(item.pop("line_id"))) is not None:
                line[kind].append(item)
    return [line | {"line_id": str(line["line_id"])} for line in out.values()]


async def same_vehicle_ro_ids(
    session: AsyncSession, tenant_id: UUID, ro_numbers: list[str]
) -> tuple[UUID, ...]:
    """These ROs and every other RO of the same vehicles (by VIN or plate): "that car"."""
    if not ro_numbers:
        return ()
    r = t.repair_orders
    named = (
        select(r.c.vin_bidx, r.c.plate_bidx)
        .where(r.c.tenant_id == tenant_id, r.c.ro_number.in_(ro_numbers))
        .subquery()
    )
    rows = await session.execute(
        select(r.c.ro_id).where(
            r.c.tenant_id == tenant_id,
            (r.c.ro_number.in_(ro_numbers))
            | r.c.vin_bidx.in_(select(named.c.vin_bidx).where(named.c.vin_bidx.is_not(None)))
            | r.c.plate_bidx.in_(select(named.c.plate_bidx).where(named.c.plate_bidx.is_not(None))),
        )
    )
    return tuple(UUID(str(row[0])) for row in rows)


async def ro_ids_by_numbers(
    session: AsyncSession, tenant_id: UUID, ro_numbers: list[str]
) -> tuple[UUID, ...]:
    r = t.repair_orders
    rows = await session.execute(
        select(r.c.ro_id).where(r.c.tenant_id == tenant_id, r.c.ro_number.in_(ro_numbers))
    )
    return tuple(UUID(str(row[0])) for row in rows)


async def ro_id_by_number(session: AsyncSession, tenant_id: UUID, ro_number: str) -> UUID | None:
    row = (
        await session.execute(
            select(t.repair_orders.c.ro_id).where(
                t.repair_orders.c.tenant_id == tenant_id,
                t.repair_orders.c.ro_number == ro_number,
            )
        )
    ).first()
    return UUID(str(row[0])) if row else None


async def latest_ro_number_for_vehicle(
    session: AsyncSession, tenant_id: UUID, vin_bidx: bytes | None, plate_bidx: bytes | None
) -> str | None:
    r = t.repair_orders
    keys = [k for k in (vin_bidx, plate_bidx) if k]
    if not keys:
        return None
    condition = r.c.vin_bidx.in_(keys) | r.c.plate_bidx.in_(keys)
    row = (
        await session.execute(
            select(r.c.ro_number)
            .where(r.c.tenant_id == tenant_id, condition)
            .order_by(r.c.ro_open_date.desc().nulls_last())
            .limit(1)
        )
    ).first()
    return str(row[0]) if row else None


async def vehicle_keys(
    session: AsyncSession, tenant_id: UUID, ro_numbers: list[str]
) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The VIN and plate blind indexes of these ROs: "the vehicle of RO 48211"."""
    r = t.repair_orders
    if not ro_numbers:
        return (), ()
    rows = (
        await session.execute(
            select(r.c.vin_bidx, r.c.plate_bidx).where(
                r.c.tenant_id == tenant_id, r.c.ro_number.in_(ro_numbers)
            )
        )
    ).all()
    return (
        tuple(bytes(v) for v, _ in rows if v),
        tuple(bytes(p) for _, p in rows if p),
    )


_SAME_CUSTOMER = text("SELECT * FROM app.customer_terms_same_customer(:ro, CAST(:kinds AS text[]))")


async def customer_ro_ids(
    session: AsyncSession, details: list[tuple[str, str]]
) -> tuple[UUID, ...]:
    """Every RO of the caller's shop that shares a customer term with these (RO number,
    field) pairs: "what did we do for [[pii:48211:customer_name]]" means all of that
    customer's ROs. Fields that name no customer (a VIN, a plate) are skipped."""
    found: dict[UUID, None] = {}
    for ro_number, field in details:
        kinds = [k.value for k in SAME_CUSTOMER_KINDS.get(field, ())]
        if kinds:
            rows = await session.execute(_SAME_CUSTOMER, {"ro": ro_number, "kinds": kinds})
            found |= {UUID(str(row[0])): None for row in rows}
    return tuple(found)


async def ro_numbers_by_ids(
    session: AsyncSession, tenant_id: UUID, ro_ids: list[UUID]
) -> dict[UUID, str]:
    """The audit log records ROs by id; a person reads them by number."""
    if not ro_ids:
        return {}
    r = t.repair_orders
    rows = await session.execute(
        select(r.c.ro_id, r.c.ro_number).where(r.c.tenant_id == tenant_id, r.c.ro_id.in_(ro_ids))
    )
    return {UUID(str(row[0])): str(row[1]) for row in rows}
