"""Ingesting files of repair orders: each RO validated, scrubbed, sealed and stored whole.

ROs go to the database in batches, one transaction each, and a savepoint per RO when the
database refuses one, so a record that fails leaves nothing behind while the good records
of its batch are stored (`writer`). The embedder sets the pace: it works on the next batch
while the database writes this one (`pipeline`).

A run can be asked to stop (`should_stop`): it stops once the batch being written commits,
and a second run skips every RO that landed unchanged, with one lookup per batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio

from assistant.db.session import Database, DbContext, Role
from assistant.ingest import prepare, readers, repository, writer
from assistant.ingest.pipeline import Pipeline, batches, embed_all, prepare_all
from assistant.ingest.records import RepairOrderRecord
from assistant.ingest.report import IngestReport, Outcome, Rejection
from assistant.logging import get_logger
from assistant.pii.documents import SourceDocument
from assistant.pii.keyring import KeyRing
from retrieval import shop_facts
from retrieval.embedders import Embedder

__all__ = [
    "BATCH_SIZE",
    "IngestReport",
    "Outcome",
    "Rejection",
    "ingest_bytes",
    "ingest_path",
    "store_repair_order",
]

log = get_logger(__name__)
# ROs per transaction. Bigger batches embed with less padding (the embedder sorts a call's
# texts by length) and commit less often; 128 demo ROs are about 360 chunks.
BATCH_SIZE = 128

Progress = Callable[[int], None]


async def ingest_path(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    path: Path,
    *,
    created_by: UUID | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
    max_bytes: int = readers.MAX_FILE_BYTES,
) -> IngestReport:
    try:
        content = await anyio.Path(path).read_bytes()
    except OSError as exc:
        report = IngestReport()
        report.rejected.append(Rejection(str(path), None, (f"cannot read file: {exc.strerror}",)))
        return report
    return await ingest_bytes(
        db,
        ring,
        embedder,
        tenant_id,
        path.name,
        content,
        created_by=created_by,
        progress=progress,
        should_stop=should_stop,
        batch_size=batch_size,
        max_bytes=max_bytes,
    )


async def ingest_bytes(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    filename: str,
    content: bytes,
    *,
    created_by: UUID | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
    max_bytes: int = readers.MAX_FILE_BYTES,
) -> IngestReport:
    """`progress` hears how many records each committed batch got through; `should_stop`
    is asked before each batch is written."""
    report = IngestReport()
    parsed = readers.parse(filename, content, max_bytes)
    if parsed.errors:
        report.rejected.append(Rejection(filename, None, parsed.errors))
        log.info("ingest.file_rejected", file=filename, reasons=list(parsed.errors))
        return report
    doc = SourceDocument.seal_file(ring, tenant_id, filename, parsed.mime_type, content)
    ctx = DbContext(tenant_id=tenant_id, role=Role.ADMIN, user_id=created_by)
    pipeline = Pipeline(db, ring, embedder, ctx, doc)
    try:
        rejected = await pipeline.run(
            batches(parsed.records, batch_size), report, progress, should_stop
        )
    finally:
        shop_facts.clear(tenant_id)  # new vehicles and technicians count from the next question
    report.rejected.extend(r for _, r in sorted(rejected, key=lambda item: item[0]))
    for rejection in report.rejected:
        log.info(
            "ingest.record_rejected",
            position=rejection.position,
            ro_number=rejection.ro_number,
            reasons=list(rejection.reasons),
        )
    log.info(
        "ingest.file_done",
        file=filename,
        tenant_id=str(tenant_id),
        **{o.value: n for o, n in report.counts.items()},
        rejected=len(report.rejected),
        not_reached=report.not_reached,
    )
    return report


async def store_repair_order(
    session: Any,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    doc: SourceDocument,
    record: RepairOrderRecord,
) -> Outcome:
    """One RO in the caller's transaction; what the database refuses is raised, not reported."""
    candidate = prepare.candidate(ring, tenant_id, 0, "", record)
    number = record.ro_number
    found = (await repository.find_ros(session, tenant_id, [number], lock=True)).get(number)
    if found is not None and found.fingerprint == candidate.fingerprint:
        return Outcome.UNCHANGED
    ro_id = found.ro_id if found else uuid.uuid4()
    ros = prepare_all(ring, embedder, tenant_id, [(candidate, ro_id)])
    (item,) = await anyio.to_thread.run_sync(embed_all, embedder, ros)
    write = writer.Write(item, updates=found is not None)
    await writer.store(session, tenant_id, doc, embedder.model_name, [write])
    return Outcome.UPDATED if found else Outcome.INGESTED
