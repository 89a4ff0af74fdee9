"""SQL for storing repair orders, a batch at a time: one statement per table, not per row."""

from __future__ import annotations

import struct
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t


@dataclass(frozen=True, slots=True)
class ExistingRo:
    ro_id: UUID
    fingerprint: bytes | None


async def find_ros(
    session: AsyncSession, tenant_id: UUID, ro_numbers: Sequence[str], *, lock: bool
) -> dict[str, ExistingRo]:
    """The stored ROs of these numbers; locked, they stay as read until the commit."""
    if not ro_numbers:
        return {}
    r = t.repair_orders
    query = select(r.c.ro_number, r.c.ro_id, r.c.fingerprint).where(
        r.c.tenant_id == tenant_id, r.c.ro_number.in_(list(ro_numbers))
    )
    rows = await session.execute(query.with_for_update() if lock else query)
    return {
        str(number): ExistingRo(UUID(str(ro_id)), bytes(fp) if fp is not None else None)
        for number, ro_id, fp in rows
    }


async def insert_ros(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(t.repair_orders), rows)


async def update_ro(
    session: AsyncSession, tenant_id: UUID, ro_id: UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(t.repair_orders)
        .where(t.repair_orders.c.tenant_id == tenant_id, t.repair_orders.c.ro_id == ro_id)
        .values({**values, "updated_at": func.now()})
    )


async def clear_derived(session: AsyncSession, tenant_id: UUID, ro_ids: Sequence[UUID]) -> None:
    """What an updated RO gets anew: lines (their labor, parts and line chunks go with them,
    ON DELETE CASCADE), the header chunk and the customer terms."""
    if not ro_ids:
        return
    ids = list(ro_ids)
    for table in (t.ro_lines, t.ro_chunks, t.customer_terms):
        await session.execute(
            delete(table).where(table.c.tenant_id == tenant_id, table.c.ro_id.in_(ids))
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


async def insert_vault_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """New ROs only: they have no vault row yet (an update goes through `vault.store`)."""
    if rows:
        await session.execute(insert(t.pii_vault), rows)


async def insert_customer_terms(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(pg_insert(t.customer_terms).on_conflict_do_nothing(), rows)


# --- chunks ------------------------------------------------------------------------------
# The widest rows of an RO (text and a 384-float vector), written as one statement per
# batch: arrays of each column, unnested. COPY would be the obvious tool, but PostgreSQL
# refuses COPY FROM into a table with row-level security. The statement goes straight to
# the driver so the vectors travel as binary floats, not as decimal text to parse; one
# statement also lets the posting list's statement trigger (0020) fill it in one pass.
_INSERT_CHUNKS = (
    "INSERT INTO app.ro_chunks (tenant_id, ro_id, line_id, kind, seq, content, embedding,"
    " embedding_model, token_count)"
    " SELECT %(tenant_id)b, c.ro_id, c.line_id, c.kind, c.seq, c.content, c.embedding,"
    " %(model)b, c.token_count"
    " FROM unnest(%(ro_ids)b::uuid[], %(line_ids)b::uuid[], %(kinds)b::text[],"
    " %(seqs)b::int4[], %(contents)b::text[], %(embeddings)b::vector[], %(tokens)b::int4[])"
    " AS c(ro_id, line_id, kind, seq, content, embedding, token_count)"
)


@dataclass(frozen=True, slots=True)
class ChunkRow:
    ro_id: UUID
    line_id: UUID | None
    kind: str
    seq: int
    content: str
    embedding: npt.NDArray[np.float32]
    token_count: int


class _Embedding:
    """An embedding on its way to the driver; the dumper below is registered for this class
    alone, so nothing else the connection sends or reads changes."""

    __slots__ = ("values",)

    def __init__(self, values: npt.NDArray[np.float32]) -> None:
        self.values = values


class _VectorBinaryDumper(Dumper):
    """pgvector's binary input: dimensions, a reserved zero, then big-endian float4s."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        values = np.asarray(obj.values, dtype=">f4")
        return struct.pack(">HH", values.shape[0], 0) + values.tobytes()


_PREPARED: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()


async def _driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The session's own psycopg connection (same transaction), taught the vector type once."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    conn: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    if conn not in _PREPARED:
        info = await TypeInfo.fetch(conn, "vector")
        if info is None:
            raise psycopg.ProgrammingError("the vector type is not installed")
        info.register(conn)  # its array type, for vector[]; no loader changes
        dumper = type("VectorDumper", (_VectorBinaryDumper,), {"oid": info.oid})
        conn.adapters.register_dumper(_Embedding, dumper)
        _PREPARED.add(conn)
    return conn


async def insert_chunks(
    session: AsyncSession, tenant_id: UUID, model: str, rows: Sequence[ChunkRow]
) -> None:
    if not rows:
        return
    conn = await _driver_connection(session)
    await conn.execute(
        _INSERT_CHUNKS,
        {
            "tenant_id": tenant_id,
            "model": model,
            "ro_ids": [r.ro_id for r in rows],
            "line_ids": [r.line_id for r in rows],
            "kinds": [r.kind for r in rows],
            "seqs": [r.seq for r in rows],
            "contents": [r.content for r in rows],
            "embeddings": [_Embedding(r.embedding) for r in rows],
            "tokens": [r.token_count for r in rows],
        },
    )
