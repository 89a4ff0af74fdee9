"""Storing a batch of prepared ROs in the caller's transaction: together, or one by one.

The fast path writes the whole batch with one statement per table (chunks included) inside
a savepoint. If the database refuses any of it, that savepoint is rolled back and each RO
is written again under a savepoint of its own, so a bad record is rejected alone, with the
database's reason, and the others of its batch still commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.ingest import prepare, repository
from assistant.ingest.prepare import Candidate, PreparedRo
from assistant.ingest.report import Outcome
from assistant.pii import documents, vault
from assistant.pii.documents import SourceDocument
from assistant.pii.keyring import KeyRing
from retrieval.embedders import Vectors

# SQLAlchemy wraps what its statements raise; chunks go to the driver's connection directly.
REFUSALS = (DBAPIError, psycopg.Error)


@dataclass(frozen=True, slots=True)
class EmbeddedRo:
    ro: PreparedRo
    vectors: Vectors  # one per chunk, in order


@dataclass(slots=True)
class BatchResult:
    stored: list[tuple[Candidate, Outcome]] = field(default_factory=list)
    refused: list[tuple[Candidate, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Write:
    item: EmbeddedRo
    updates: bool  # the RO is stored already (under item.ro.ro_id) and changed


async def write_batch(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    doc: SourceDocument,
    model: str,
    items: Sequence[EmbeddedRo],
) -> BatchResult:
    """The ROs are locked as read, so the outcome each is given is the one that commits."""
    result = BatchResult()
    numbers = [i.ro.candidate.record.ro_number for i in items]
    existing = await repository.find_ros(session, tenant_id, numbers, lock=True)
    writes: list[Write] = []
    for item in items:
        candidate = item.ro.candidate
        found = existing.get(candidate.record.ro_number)
        if found is not None and found.fingerprint == candidate.fingerprint:
            result.stored.append((candidate, Outcome.UNCHANGED))
        elif found is not None:
            ro = prepare.rebind(ring, tenant_id, item.ro, found.ro_id)
            writes.append(Write(EmbeddedRo(ro, item.vectors), updates=True))
        else:
            writes.append(Write(item, updates=False))
    if not writes:
        return result
    try:
        async with session.begin_nested():
            await store(session, tenant_id, doc, model, writes)
    except REFUSALS:
        for write in writes:
            try:
                async with session.begin_nested():
                    await store(session, tenant_id, doc, model, [write])
            except REFUSALS as exc:
                result.refused.append((write.item.ro.candidate, refusal_reason(exc)))
            else:
                result.stored.append((write.item.ro.candidate, _outcome(write)))
    else:
        result.stored.extend((w.item.ro.candidate, _outcome(w)) for w in writes)
    return result


def refusal_reason(exc: Exception) -> str:
    """The primary message only: PostgreSQL's DETAIL and CONTEXT can quote the values."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return f"the database refused it: {primary or type(error).__name__}"


def _outcome(write: Write) -> Outcome:
    return Outcome.UPDATED if write.updates else Outcome.INGESTED


async def store(
    session: AsyncSession,
    tenant_id: UUID,
    doc: SourceDocument,
    model: str,
    writes: Sequence[Write],
) -> None:
    # Stored by the first write that needs it: a file whose ROs are all refused or
    # unchanged leaves no document behind.
    doc_id = await documents.ensure_stored(session, doc)
    new = [w.item.ro for w in writes if not w.updates]
    updated = [w.item.ro for w in writes if w.updates]
    for ro in updated:
        await repository.update_ro(session, tenant_id, ro.ro_id, ro.header | {"doc_id": doc_id})
    await repository.clear_derived(session, tenant_id, [ro.ro_id for ro in updated])
    await repository.insert_ros(
        session,
        [{"ro_id": ro.ro_id, "tenant_id": tenant_id, "doc_id": doc_id, **ro.header} for ro in new],
    )
    everything = [w.item.ro for w in writes]
    await repository.insert_lines(
        session,
        [row for ro in everything for row in ro.lines],
        [row for ro in everything for row in ro.labor],
        [row for ro in everything for row in ro.parts],
    )
    await repository.insert_chunks(session, tenant_id, model, _chunk_rows(writes))
    await repository.insert_vault_rows(
        session,
        [_vault_row(tenant_id, ro) for ro in new if ro.sealed is not None],
    )
    for ro in updated:
        if ro.sealed is not None:
            await vault.store(session, tenant_id, ro.ro_id, ro.sealed)
        else:
            await vault.remove(session, tenant_id, ro.ro_id)
    await repository.insert_customer_terms(session, [row for ro in everything for row in ro.terms])


def _chunk_rows(writes: Sequence[Write]) -> list[repository.ChunkRow]:
    return [
        repository.ChunkRow(
            chunk.ro_id,
            chunk.line_id,
            chunk.kind,
            chunk.seq,
            chunk.content,
            vector,
            chunk.token_count,
        )
        for w in writes
        for chunk, vector in zip(w.item.ro.chunks, w.item.vectors, strict=True)
    ]


def _vault_row(tenant_id: UUID, ro: PreparedRo) -> dict[str, Any]:
    assert ro.sealed is not None
    return {
        "tenant_id": tenant_id,
        "ro_id": ro.ro_id,
        "key_ref": ro.sealed.key_ref,
        "nonce": ro.sealed.nonce,
        "ciphertext": ro.sealed.ciphertext,
    }
