"""One RO as the rows, chunks and sealed payload it is stored as: CPU work, no database.

Ingest prepares the next batch in a worker thread (its embeddings included) while the
database writes the batch before it. Only the RO's id ties these rows to the database, so a
record prepared as new that exists by the time it is written is prepared again for the
stored id (`rebind`); its chunk texts, and so its embeddings, do not change.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from assistant.ingest.readers import RawRecord
from assistant.ingest.records import Customer, RepairOrderRecord, ro_number_of, validate
from assistant.pii import blind_index, customer_terms, vault
from assistant.pii.keyring import KeyRing
from assistant.pii.markers import neutralise_data
from assistant.pii.sealing import Sealed
from retrieval.chunking import Chunk, chunk_ro, ro_view
from retrieval.scrub import Scrubber


@dataclass(frozen=True, slots=True)
class Candidate:
    """A valid record, where it came from, and its keyed fingerprint (what "unchanged" means)."""

    index: int
    position: str
    record: RepairOrderRecord
    fingerprint: bytes


@dataclass(frozen=True, slots=True)
class Invalid:
    index: int
    position: str
    ro_number: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PreparedRo:
    candidate: Candidate
    ro_id: UUID
    header: dict[str, Any]  # the repair_orders row, less its doc_id
    lines: list[dict[str, Any]]
    labor: list[dict[str, Any]]
    parts: list[dict[str, Any]]
    chunks: list[Chunk]
    sealed: Sealed | None  # the vault row's payload; None when the record holds no PII
    terms: list[dict[str, Any]]  # customer_terms rows (keyed hashes only)


def check(
    ring: KeyRing, tenant_id: UUID, raws: Sequence[tuple[int, RawRecord]]
) -> tuple[list[Candidate], list[Invalid]]:
    candidates: list[Candidate] = []
    invalid: list[Invalid] = []
    for index, raw in raws:
        record, reasons = (
            (None, list(raw.errors)) if raw.errors else validate(neutralise_data(raw.data))
        )
        if record is None:
            invalid.append(Invalid(index, raw.position, ro_number_of(raw.data), tuple(reasons)))
            continue
        candidates.append(candidate(ring, tenant_id, index, raw.position, record))
    return candidates, invalid


def candidate(
    ring: KeyRing, tenant_id: UUID, index: int, position: str, record: RepairOrderRecord
) -> Candidate:
    canonical = record.model_dump_json().encode()
    return Candidate(index, position, record, blind_index.fingerprint(ring, tenant_id, canonical))


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


def prepare(
    ring: KeyRing,
    tenant_id: UUID,
    count_tokens: Callable[[str], int],
    candidate: Candidate,
    ro_id: UUID,
) -> PreparedRo:
    record = candidate.record
    payload = vault_payload(record.customer)
    scrubber = Scrubber(payload)
    header = _header(record, scrubber) | {
        "vin_bidx": blind_index.vin_index(ring, tenant_id, record.customer.vin),
        "plate_bidx": blind_index.plate_index(ring, tenant_id, record.customer.license_plate),
        "fingerprint": candidate.fingerprint,
    }
    lines, labor, parts = _line_rows(record, scrubber, tenant_id, ro_id)
    chunks = chunk_ro(ro_view(header | {"ro_id": ro_id}, lines, labor, parts), count_tokens)
    return PreparedRo(
        candidate=candidate,
        ro_id=ro_id,
        header=header,
        lines=lines,
        labor=labor,
        parts=parts,
        chunks=chunks,
        sealed=vault.seal_payload(ring, tenant_id, ro_id, payload) if payload else None,
        terms=_term_rows(ring, tenant_id, ro_id, payload),
    )


def rebind(ring: KeyRing, tenant_id: UUID, ro: PreparedRo, ro_id: UUID) -> PreparedRo:
    """The same RO under another id: the sealed payload's associated data names the id,
    so it is sealed again; the rows are relabelled."""
    if ro_id == ro.ro_id:
        return ro

    def moved(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row | {"ro_id": ro_id} for row in rows]

    payload = vault_payload(ro.candidate.record.customer)
    return dataclasses.replace(
        ro,
        ro_id=ro_id,
        lines=moved(ro.lines),
        labor=moved(ro.labor),
        parts=moved(ro.parts),
        chunks=[dataclasses.replace(c, ro_id=ro_id) for c in ro.chunks],
        sealed=vault.seal_payload(ring, tenant_id, ro_id, payload) if payload else None,
        terms=moved(ro.terms),
    )


def _term_rows(
    ring: KeyRing, tenant_id: UUID, ro_id: UUID, payload: dict[str, Any]
) -> list[dict[str, Any]]:
    key = customer_terms.terms_key(ring, tenant_id)
    return [
        {
            "tenant_id": tenant_id,
            "ro_id": ro_id,
            "kind": kind.value,
            "term": customer_terms.keyed(key, kind, value),
        }
        for kind, value in sorted(customer_terms.payload_terms(payload))
    ]


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
