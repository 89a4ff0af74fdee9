"""Batches of ROs through three stages at once, so the embedder is never kept waiting.

While the database writes batch k, the embedder works on batch k+1 and a worker thread
prepares batch k+2 (validation, the lookup of what is stored, scrubbing, chunking, sealing).
Each stage takes its batches in file order. The embedder is CPU-bound and so is PostgreSQL,
on the same cores: what this buys is that neither the Python work nor the database's ever
stands between two embedding calls.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import anyio
import numpy as np

from assistant.db.session import Database, DbContext
from assistant.ingest import prepare, readers, repository, writer
from assistant.ingest.prepare import Candidate, Invalid, PreparedRo
from assistant.ingest.records import ro_number_of
from assistant.ingest.report import IngestReport, Outcome, Rejection
from assistant.ingest.writer import EmbeddedRo
from assistant.pii.documents import SourceDocument
from assistant.pii.keyring import KeyRing
from retrieval.embedders import Embedder

Batch = list[tuple[int, readers.RawRecord]]
LOOKAHEAD = 2  # batches prepared or embedded ahead of the one being written


def batches(records: Sequence[readers.RawRecord], size: int) -> list[Batch]:
    """In file order, and never one RO number twice in a batch: a later record of the same
    RO then updates the earlier one, so the last one wins."""
    out: list[Batch] = []
    batch: Batch = []
    numbers: set[str] = set()
    for index, raw in enumerate(records):
        number = ro_number_of(raw.data)
        if len(batch) >= size or (number is not None and number in numbers):
            out.append(batch)
            batch, numbers = [], set()
        batch.append((index, raw))
        if number is not None:
            numbers.add(number)
    if batch:
        out.append(batch)
    return out


@dataclass(frozen=True, slots=True)
class _Ready:
    """A batch validated, sorted out against what is stored, prepared and embedded."""

    invalid: list[Invalid]
    unchanged: list[Candidate]
    items: list[EmbeddedRo]


@dataclass(slots=True)
class Pipeline:
    db: Database
    ring: KeyRing
    embedder: Embedder
    ctx: DbContext
    doc: SourceDocument
    _preparing: asyncio.Lock = field(default_factory=asyncio.Lock)
    _embedding: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def tenant_id(self) -> UUID:
        return self.ctx.tenant_id

    async def run(
        self,
        todo: list[Batch],
        report: IngestReport,
        progress: Callable[[int], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> list[tuple[int, Rejection]]:
        """Counts go into `report`; the rejections come back with their place in the file."""
        rejected: list[tuple[int, Rejection]] = []
        pending: dict[int, asyncio.Task[_Ready]] = {}
        try:
            for number, batch in enumerate(todo):
                if should_stop is not None and should_stop():
                    report.not_reached = sum(len(b) for b in todo[number:])
                    break
                for ahead in range(number, min(number + LOOKAHEAD + 1, len(todo))):
                    if ahead not in pending:
                        pending[ahead] = asyncio.create_task(self._ready(todo[ahead]))
                done = await pending.pop(number)
                result = writer.BatchResult()
                if done.items:  # a batch that landed before costs its one lookup, no more
                    async with self.db.transaction(self.ctx) as session:
                        result = await writer.write_batch(
                            session,
                            self.ring,
                            self.tenant_id,
                            self.doc,
                            self.embedder.model_name,
                            done.items,
                        )
                for invalid in done.invalid:
                    rejection = Rejection(invalid.position, invalid.ro_number, invalid.reasons)
                    rejected.append((invalid.index, rejection))
                report.counts[Outcome.UNCHANGED] += len(done.unchanged)
                for _, outcome in result.stored:
                    report.counts[outcome] += 1
                for candidate, reason in result.refused:
                    rejection = Rejection(candidate.position, candidate.record.ro_number, (reason,))
                    rejected.append((candidate.index, rejection))
                if progress is not None:
                    progress(len(batch))
        finally:
            # Stopped or failed: the batches ahead are not wanted. A thread cannot be
            # interrupted, so the one embedding finishes its call first.
            for task in pending.values():
                task.cancel()
            if pending:
                await asyncio.wait(pending.values())
            for task in pending.values():
                if not task.cancelled():
                    task.exception()  # retrieved, and dropped with its batch
        return rejected

    async def _ready(self, batch: Batch) -> _Ready:
        async with self._preparing:
            candidates, invalid = await anyio.to_thread.run_sync(
                prepare.check, self.ring, self.tenant_id, batch
            )
            async with self.db.transaction(self.ctx) as session:
                stored = await repository.find_ros(
                    session, self.tenant_id, [c.record.ro_number for c in candidates], lock=False
                )
            fresh: list[tuple[Candidate, UUID]] = []
            unchanged: list[Candidate] = []
            for candidate in candidates:
                found = stored.get(candidate.record.ro_number)
                if found is not None and found.fingerprint == candidate.fingerprint:
                    unchanged.append(candidate)
                else:
                    fresh.append((candidate, found.ro_id if found else uuid.uuid4()))
            ros = await anyio.to_thread.run_sync(
                prepare_all, self.ring, self.embedder, self.tenant_id, fresh
            )
        async with self._embedding:
            items = await anyio.to_thread.run_sync(embed_all, self.embedder, ros)
        return _Ready(invalid, unchanged, items)


def prepare_all(
    ring: KeyRing, embedder: Embedder, tenant_id: UUID, fresh: Sequence[tuple[Candidate, UUID]]
) -> list[PreparedRo]:
    return [
        prepare.prepare(ring, tenant_id, embedder.count_tokens, candidate, ro_id)
        for candidate, ro_id in fresh
    ]


def embed_all(embedder: Embedder, ros: Sequence[PreparedRo]) -> list[EmbeddedRo]:
    """The batch's chunks in one call: the embedder sorts them by length across the whole
    batch, so they pad less than RO by RO."""
    vectors = embedder.embed([chunk.content for ro in ros for chunk in ro.chunks])
    bounds = np.cumsum([0, *(len(ro.chunks) for ro in ros)])
    return [
        EmbeddedRo(ro, vectors[start:end])
        for ro, start, end in zip(ros, bounds[:-1], bounds[1:], strict=True)
    ]
