"""SQL for reading a repair order and its lines (the tables hold no PII)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t

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
