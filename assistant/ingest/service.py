"""Ingesting files of repair orders: each RO validated, scrubbed, sealed and stored whole.

Every RO is one transaction (its document, header, lines, labor, parts and vault row), so a
record that fails leaves nothing behind while the good records of the same file are stored.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
from sqlalchemy.exc import DBAPIError

from assistant.db.session import Database, DbContext, Role
from assistant.ingest import readers, repository
from assistant.ingest.records import Customer, RepairOrderRecord, ro_number_of, validate
from assistant.logging import get_logger
from assistant.pii import blind_index, customer_terms, documents, vault
from assistant.pii.documents import SourceDocument
from assistant.pii.keyring import KeyRing
from assistant.pii.markers import neutralise_data
from assistant.repair_orders import chunk_store
from retrieval import shop_facts
from retrieval.chunking import RoView, chunk_ro, ro_view
from retrieval.embedders import Embedder
from retrieval.scrub import Scrubber

log = get_logger(__name__)
# ROs stored concurrently: the event loop validates, scrubs and seals one while the
# database writes another. More would only queue on a two-core machine.
WORKERS = 3


class Outcome(StrEnum):
    INGESTED = "ingested"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Rejection:
    position: str
    ro_number: str | None
    reasons: tuple[str, ...]

    def describe(self) -> str:
        ro = f" (RO {self.ro_number})" if self.ro_number else ""
        return f"{self.position}{ro}: " + "; ".join(self.reasons)


@dataclass(slots=True)
class IngestReport:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    rejected: list[Rejection] = field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        for outcome, n in other.counts.items():
            self.counts[outcome] += n
        self.rejected.extend(other.rejected)

    def summary(self) -> str:
        return ", ".join(f"{o.value} {n}" for o, n in self.counts.items()) + (
            f", rejected {len(self.rejected)}"
        )


Progress = Callable[[int], None]


def vault_payload(customer: Customer) -> dict[str, Any]:
    address = customer.address.model_dump(exclude_none=True) if customer.address else {}
    payload: dict[str, Any] = {
        "customer_name": customer.name,
        "email": customer.email,
        "phones": list(customer.phones) or None,
        "address": address or None,
        "vin": customer.vin,
        "license_plate": customer.license_plate,
        "payment_method": customer.payment_method,
    }
    return {k: v for k, v in payload.items() if v}


async def ingest_path(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    path: Path,
    *,
    created_by: UUID | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Progress | None = None,
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
        on_total=on_total,
        progress=progress,
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
    on_total: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    report = IngestReport()
    parsed = readers.parse(filename, content)
    if parsed.errors:
        report.rejected.append(Rejection(filename, None, parsed.errors))
        log.info("ingest.file_rejected", file=filename, reasons=list(parsed.errors))
        return report
    if on_total is not None:
        on_total(len(parsed.records))
    doc = SourceDocument.seal_file(ring, tenant_id, filename, parsed.mime_type, content)
    ctx = DbContext(tenant_id=tenant_id, role=Role.ADMIN, user_id=created_by)
    async with db.transaction(ctx) as session:
        await chunk_store.ensure_partition(session, tenant_id)
    rejected: list[tuple[int, Rejection]] = []

    async def worker(batch: list[tuple[int, readers.RawRecord]]) -> None:
        for index, raw in batch:
            record, reasons = (
                (None, list(raw.errors)) if raw.errors else validate(neutralise_data(raw.data))
            )
            if record is None:
                rejected.append(
                    (index, Rejection(raw.position, ro_number_of(raw.data), tuple(reasons)))
                )
            else:
                try:
                    async with db.transaction(ctx) as session:
                        outcome = await store_repair_order(
                            session, ring, embedder, tenant_id, doc, record
                        )
                    report.counts[outcome] += 1
                except DBAPIError as exc:
                    reason = f"the database refused it: {_db_reason(exc)}"
                    rejected.append((index, Rejection(raw.position, record.ro_number, (reason,))))
            if progress is not None:
                progress(1)

    # Records of one RO number go to the same worker, in file order, so the last one wins.
    batches: list[list[tuple[int, readers.RawRecord]]] = [[] for _ in range(WORKERS)]
    for index, raw in enumerate(parsed.records):
        key = ro_number_of(raw.data) or str(index)
        batches[zlib.crc32(key.encode()) % WORKERS].append((index, raw))
    await asyncio.gather(*(worker(batch) for batch in batches if batch))
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
    )
    return report


def _db_reason(exc: DBAPIError) -> str:
    # The primary message only: PostgreSQL's DETAIL can quote the offending values.
    diag = getattr(exc.orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary or type(exc.orig).__name__)


async def store_repair_order(
    session: Any,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    doc: SourceDocument,
    record: RepairOrderRecord,
) -> Outcome:
    canonical = record.model_dump_json().encode()
    fingerprint = blind_index.fingerprint(ring, tenant_id, canonical)
    existing = await repository.find_ro(session, tenant_id, record.ro_number)
    if existing is not None and existing.fingerprint == fingerprint:
        return Outcome.UNCHANGED
    doc_id = await documents.ensure_stored(session, doc)
    payload = vault_payload(record.customer)
    scrubber = Scrubber(payload)
    ro_id = existing.ro_id if existing else uuid.uuid4()
    header = _header(record, scrubber) | {
        "doc_id": doc_id,
        "vin_bidx": blind_index.vin_index(ring, tenant_id, record.customer.vin),
        "plate_bidx": blind_index.plate_index(ring, tenant_id, record.customer.license_plate),
        "fingerprint": fingerprint,
    }
    if existing is None:
        await repository.insert_ro(session, {"ro_id": ro_id, "tenant_id": tenant_id, **header})
    else:
        await repository.update_ro(session, tenant_id, ro_id, header)
    lines, labor, parts = _line_rows(record, scrubber, tenant_id, ro_id)
    await repository.insert_lines(session, lines, labor, parts)
    await _write_chunks(
        session, embedder, tenant_id, ro_view(header | {"ro_id": ro_id}, lines, labor, parts)
    )
    if payload:
        await vault.store(
            session, tenant_id, ro_id, vault.seal_payload(ring, tenant_id, ro_id, payload)
        )
    elif existing is not None:
        await vault.remove(session, tenant_id, ro_id)
    await customer_terms.replace(session, ring, tenant_id, ro_id, payload)
    return Outcome.UPDATED if existing else Outcome.INGESTED


async def _write_chunks(session: Any, embedder: Embedder, tenant_id: UUID, view: RoView) -> None:
    """Chunks and embeddings in the RO's own transaction: search never sees a half RO."""
    chunks = chunk_ro(view, embedder.count_tokens)
    vectors = await anyio.to_thread.run_sync(embedder.embed, [c.content for c in chunks])
    await chunk_store.replace_chunks(
        session, tenant_id, [view.ro_id], chunks, vectors, embedder.model_name
    )


def _header(record: RepairOrderRecord, scrubber: Scrubber) -> dict[str, Any]:
    first_tech = next(
        (labor.technician for line in record.lines for labor in line.labor if labor.technician),
        None,
    )
    v, totals, advisor = record.vehicle, record.totals, record.advisor
    return {
        "ro_number": record.ro_number,
        "ro_open_date": record.opened_on,
        "ro_close_date": record.closed_on,
        "ro_status": scrubber.scrub_text(record.status),
        "advisor_name": scrubber.scrub_text(advisor.name if advisor else None),
        "advisor_tag": advisor.tag if advisor else None,
        "technician_name": scrubber.scrub_text(first_tech.name if first_tech else None),
        "technician_code": first_tech.code if first_tech else None,
        "vehicle_year": v.year,
        "vehicle_make": v.make,
        "vehicle_model": v.model,
        "vehicle_color": v.color,
        "mileage_in": v.mileage_in,
        "mileage_out": v.mileage_out,
        "labor_total": totals.labor,
        "parts_total": totals.parts,
        "sublet_total": totals.sublet,
        "shop_supplies": totals.shop_supplies,
        "hazardous_total": totals.hazardous,
        "tax_total": totals.tax,
        "discount_total": totals.discount,
        "total_due": totals.total_due,
    }


def _line_rows(
    record: RepairOrderRecord, scrubber: Scrubber, tenant_id: UUID, ro_id: UUID
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    lines: list[dict[str, Any]] = []
    labor_rows: list[dict[str, Any]] = []
    part_rows: list[dict[str, Any]] = []
    owner = {"tenant_id": tenant_id, "ro_id": ro_id}
    for line in record.lines:
        line_id = uuid.uuid4()
        lines.append(
            owner
            | {
                "line_id": line_id,
                "line_letter": line.line,
                "status": line.status.value,
                "complaint": scrubber.scrub_text(line.complaint),
                "cause": scrubber.scrub_text(line.cause),
                "correction": scrubber.scrub_text(line.correction),
            }
        )
        for labor in line.labor:
            tech = labor.technician
            labor_rows.append(
                owner
                | {
                    "labor_id": uuid.uuid4(),
                    "line_id": line_id,
                    "operation": labor.op_code,
                    "description": scrubber.scrub_text(labor.description),
                    "technician_name": scrubber.scrub_text(tech.name if tech else None),
                    "technician_code": tech.code if tech else None,
                    "hours": labor.hours,
                    "amount": labor.amount,
                    "pay_type": labor.pay_type,
                }
            )
        for part in line.parts:
            total = (
                (part.quantity * part.unit_price).quantize(Decimal("0.01"))
                if part.unit_price is not None
                else None
            )
            part_rows.append(
                owner
                | {
                    "part_line_id": uuid.uuid4(),
                    "line_id": line_id,
                    "part_number": part.part_number,
                    "description": scrubber.scrub_text(part.description),
                    "quantity": part.quantity,
                    "unit_price": part.unit_price,
                    "line_total": total,
                }
            )
    return lines, labor_rows, part_rows
