"""Turn an uploaded file into raw records, each with the position a report can point at.

Readers never validate the record itself (that is `records.validate`); they only say where
each record came from, or why the file (or one line of it) could not be read at all.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from assistant.ingest import pdf_format

MAX_FILE_BYTES = 50 * 1024 * 1024  # an upload over HTTP
# A file the CLI reads from disk: a shop's first import is years of history in one export
# (50,000 demo ROs are a 94 MB JSON Lines file), and the operator chose to load it.
CLI_MAX_FILE_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawRecord:
    position: str
    data: object
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFile:
    mime_type: str
    records: list[RawRecord] = field(default_factory=list)
    errors: tuple[str, ...] = ()


MIME_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/jsonl",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
}


def parse(filename: str, content: bytes, max_bytes: int = MAX_FILE_BYTES) -> ParsedFile:
    suffix = PurePath(filename).suffix.lower()
    mime = MIME_TYPES.get(suffix)
    if mime is None:
        return ParsedFile(
            "application/octet-stream",
            errors=(
                f"unsupported file type {suffix or '(none)'}: use .json, .jsonl, .csv or .pdf",
            ),
        )
    if len(content) > max_bytes:
        return ParsedFile(mime, errors=(f"file is larger than {max_bytes // 2**20} MiB",))
    name = PurePath(filename).name
    if suffix == ".pdf":
        return _parse_pdf(name, content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParsedFile(mime, errors=(f"not UTF-8 text (byte {exc.start})",))
    if suffix == ".json":
        return _parse_json(name, text)
    if suffix == ".csv":
        return _parse_csv(name, text)
    return _parse_jsonl(name, text)


def _parse_json(name: str, text: str) -> ParsedFile:
    mime = MIME_TYPES[".json"]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return ParsedFile(
            mime, errors=(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",)
        )
    if isinstance(data, list):
        return ParsedFile(mime, [RawRecord(f"{name}[{i}]", item) for i, item in enumerate(data)])
    return ParsedFile(mime, [RawRecord(name, data)])


def _parse_jsonl(name: str, text: str) -> ParsedFile:
    records: list[RawRecord] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        position = f"{name}:{number}"
        try:
            records.append(RawRecord(position, json.loads(line)))
        except json.JSONDecodeError as exc:
            records.append(
                RawRecord(position, None, (f"malformed JSON at column {exc.colno}: {exc.msg}",))
            )
    return ParsedFile(MIME_TYPES[".jsonl"], records)


# --- CSV ------------------------------------------------------------------------------------
# One row per labor or parts line (or per bare line), grouped by RO number. README documents it.
CSV_REQUIRED = ("ro_number", "line", "line_status")
CSV_COLUMNS = (
    *CSV_REQUIRED,
    "ro_status",
    "opened_on",
    "closed_on",
    "advisor_name",
    "advisor_tag",
    "vehicle_year",
    "vehicle_make",
    "vehicle_model",
    "vehicle_color",
    "mileage_in",
    "mileage_out",
    "customer_name",
    "customer_email",
    "customer_phones",
    "customer_street",
    "customer_city",
    "customer_state",
    "customer_zip",
    "payment_method",
    "vin",
    "license_plate",
    "complaint",
    "cause",
    "correction",
    "item_type",
    "op_code",
    "labor_description",
    "technician_name",
    "technician_code",
    "hours",
    "labor_amount",
    "pay_type",
    "part_number",
    "part_description",
    "quantity",
    "unit_price",
    "total_labor",
    "total_parts",
    "total_sublet",
    "total_shop_supplies",
    "total_hazardous",
    "total_tax",
    "total_discount",
    "total_due",
)


def _parse_csv(name: str, text: str) -> ParsedFile:
    mime = MIME_TYPES[".csv"]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        return ParsedFile(mime, errors=(f"missing columns: {', '.join(missing)}",))
    reader.fieldnames = header
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    orphans: list[RawRecord] = []
    try:
        for row in reader:
            clean = {k: (v or "").strip() for k, v in row.items() if k}
            number = reader.line_num
            if None in row:
                orphans.append(
                    RawRecord(f"{name}:{number}", None, ("more fields than the header has",))
                )
                continue
            if not clean.get("ro_number"):
                orphans.append(RawRecord(f"{name}:{number}", None, ("ro_number: Field required",)))
                continue
            groups.setdefault(clean["ro_number"], []).append((number, clean))
    except csv.Error as exc:
        return ParsedFile(mime, errors=(f"malformed CSV at line {reader.line_num}: {exc}",))
    records = []
    for rows in groups.values():
        record, errors = _csv_record(rows)
        records.append(RawRecord(_rows_position(name, rows), record, errors))
    return ParsedFile(mime, records + orphans)


def _rows_position(name: str, rows: list[tuple[int, dict[str, str]]]) -> str:
    first, last = rows[0][0], rows[-1][0]
    return f"{name}:{first}" if first == last else f"{name}:{first}-{last}"


def _csv_record(rows: list[tuple[int, dict[str, str]]]) -> tuple[dict[str, Any], tuple[str, ...]]:
    head = rows[0][1]

    def v(row: dict[str, str], key: str) -> str | None:
        return row.get(key) or None

    lines: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for number, row in rows:
        letter = row.get("line", "")
        line = lines.setdefault(
            letter,
            {
                "line": letter,
                "status": v(row, "line_status"),
                "complaint": v(row, "complaint"),
                "cause": v(row, "cause"),
                "correction": v(row, "correction"),
                "labor": [],
                "parts": [],
            },
        )
        kind = (row.get("item_type") or "").lower()
        if kind == "labor":
            line["labor"].append(
                {
                    "op_code": v(row, "op_code"),
                    "description": v(row, "labor_description"),
                    "technician": {
                        "name": v(row, "technician_name"),
                        "code": v(row, "technician_code"),
                    },
                    "hours": v(row, "hours"),
                    "amount": v(row, "labor_amount"),
                    "pay_type": v(row, "pay_type"),
                }
            )
        elif kind in ("part", "parts"):
            line["parts"].append(
                {
                    "part_number": v(row, "part_number"),
                    "description": v(row, "part_description"),
                    "quantity": v(row, "quantity") or "1",
                    "unit_price": v(row, "unit_price"),
                }
            )
        elif kind:
            errors.append(f"line {number}: item_type must be labor, part or empty")
    record: dict[str, Any] = {
        "ro_number": head["ro_number"],
        "status": v(head, "ro_status"),
        "opened_on": v(head, "opened_on"),
        "closed_on": v(head, "closed_on"),
        "advisor": {"name": v(head, "advisor_name"), "tag": v(head, "advisor_tag")},
        "vehicle": {k: v(head, f"vehicle_{k}") for k in ("year", "make", "model", "color")}
        | {"mileage_in": v(head, "mileage_in"), "mileage_out": v(head, "mileage_out")},
        "customer": {
            "name": v(head, "customer_name"),
            "email": v(head, "customer_email"),
            "phones": [
                p.strip() for p in (head.get("customer_phones") or "").split(";") if p.strip()
            ],
            "address": {k: v(head, f"customer_{k}") for k in ("street", "city", "state", "zip")},
            "payment_method": v(head, "payment_method"),
            "vin": v(head, "vin"),
            "license_plate": v(head, "license_plate"),
        },
        "lines": list(lines.values()),
        "totals": {
            k: v(head, f"total_{k}")
            for k in ("labor", "parts", "sublet", "shop_supplies", "hazardous", "tax", "discount")
        }
        | {"total_due": v(head, "total_due")},
    }
    return record, tuple(errors)


# --- PDF ------------------------------------------------------------------------------------
def _parse_pdf(name: str, content: bytes) -> ParsedFile:
    mime = MIME_TYPES[".pdf"]
    try:
        text = pdf_format.extract_text(content)
    except pdf_format.UnreadablePdf as exc:
        return ParsedFile(mime, errors=(str(exc),))
    if not text.strip():
        return ParsedFile(mime, errors=("the PDF has no text layer (a scan or image-only PDF?)",))
    records = [
        RawRecord(f"{name}#{i + 1}", rec) for i, rec in enumerate(pdf_format.parse_text(text))
    ]
    if not records:
        return ParsedFile(mime, errors=("no 'RO Number:' label found in the PDF text",))
    return ParsedFile(mime, records)
