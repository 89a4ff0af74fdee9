"""SQL for storing a repair order and its lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t


@dataclass(frozen=True, slots=True)
class ExistingRo:
    ro_id: UUID
    fingerprint: bytes | None


async def find_ro(session: AsyncSession, tenant_id: UUID, ro_number: str) -> ExistingRo | None:
    row = (
        await session.execute(
            select(t.repair_orders.c.ro_id, t.repair_orders.c.fingerprint)
            .where(
                t.repair_orders.c.tenant_id == tenant_id, t.repair_orders.c.ro_number == ro_number
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        return None
    return ExistingRo(UUID(str(row[0])), bytes(row[1]) if row[1] is not None else None)


async def insert_ro(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(t.repair_orders).values(values))


async def update_ro(
    session: AsyncSession, tenant_id: UUID, ro_id: UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(t.repair_orders)
        .where(t.repair_orders.c.tenant_id == tenant_id, t.repair_orders.c.ro_id == ro_id)
        .values({**values, "updated_at": func.now()})
    )
    # Lines are replaced whole; labor, parts and line chunks go with them (ON DELETE
    # CASCADE); the caller writes the RO's chunks anew, header chunk included.
    await session.execute(
        delete(t.ro_lines).where(t.ro_lines.c.tenant_id == tenant_id, t.ro_lines.c.ro_id == ro_id)
    )


async def insert_lines(
    session: AsyncSession,
    lines: list[dict[str, Any]],
    labor: list[dict[str, Any]],
    parts: list[dict[str, Any]],
) -> None:
    for table, rows in ((t.ro_lines, lines), (t.ro_labor_lines, labor), (t.ro_parts_lines, parts)):
        if rows:
            await session.execute(insert(table), rows)
