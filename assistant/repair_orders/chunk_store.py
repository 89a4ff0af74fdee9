"""SQL for chunks: writing an RO's chunks, and reading ROs back to rebuild them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t
from retrieval.chunking import Chunk, RoView, ro_view
from retrieval.embedders import Vectors


async def replace_chunks(
    session: AsyncSession,
    tenant_id: UUID,
    ro_ids: Sequence[UUID],
    chunks: Sequence[Chunk],
    vectors: Vectors,
    model: str,
) -> None:
    await session.execute(
        delete(t.ro_chunks).where(
            t.ro_chunks.c.tenant_id == tenant_id, t.ro_chunks.c.ro_id.in_(list(ro_ids))
        )
    )
    if chunks:
        await session.execute(
            insert(t.ro_chunks),
            [
                {
                    "tenant_id": tenant_id,
                    "ro_id": c.ro_id,
                    "line_id": c.line_id,
                    "kind": c.kind,
                    "seq": c.seq,
                    "content": c.content,
                    "embedding": vector,
                    "embedding_model": model,
                    "token_count": c.token_count,
                }
                for c, vector in zip(chunks, vectors, strict=True)
            ],
        )


async def ro_ids(session: AsyncSession, tenant_id: UUID) -> list[UUID]:
    rows = await session.execute(
        select(t.repair_orders.c.ro_id)
        .where(t.repair_orders.c.tenant_id == tenant_id)
        .order_by(t.repair_orders.c.ro_id)
    )
    return [UUID(str(r[0])) for r in rows]


async def load_views(session: AsyncSession, tenant_id: UUID, ids: Sequence[UUID]) -> list[RoView]:
    """The stored (already scrubbed) ROs, as chunking reads them."""

    def rows(table: Any) -> Any:
        return select(table).where(table.c.tenant_id == tenant_id, table.c.ro_id.in_(list(ids)))

    headers = [dict(r._mapping) for r in await session.execute(rows(t.repair_orders))]
    lines = [dict(r._mapping) for r in await session.execute(rows(t.ro_lines))]
    labor = [dict(r._mapping) for r in await session.execute(rows(t.ro_labor_lines))]
    parts = [dict(r._mapping) for r in await session.execute(rows(t.ro_parts_lines))]

    def of(items: list[dict[str, Any]], ro_id: UUID) -> list[dict[str, Any]]:
        return [i for i in items if i["ro_id"] == ro_id]

    return [
        ro_view(h, of(lines, h["ro_id"]), of(labor, h["ro_id"]), of(parts, h["ro_id"]))
        for h in headers
    ]
