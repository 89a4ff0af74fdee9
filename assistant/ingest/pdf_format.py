"""The labelled text layout of a repair-order PDF, read with pypdf.

Dealer systems print ROs as labelled fields ("RO Number: 48211", "Complaint: ...").
We find fields by their labels, not by position, so layout changes between printers
(column order, line wrapping) do not matter. `render_text` writes the same layout, which the
tests (and anyone producing PDFs for import) use.
"""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

HEADER_LABELS = {
    "RO Number": "ro_number",
    "Status": "status",
    "Opened": "opened_on",
    "Closed": "closed_on",
    "Advisor": "advisor",
    "Customer": "customer.name",
    "Email": "customer.email",
    "Phone": "customer.phones",
    "Street": "customer.address.street",
    "City": "customer.address.city",
    "State": "customer.address.state",
    "Zip": "customer.address.zip",
    "Payment": "customer.payment_method",
    "VIN": "customer.vin",
    "Plate": "customer.license_plate",
    "Year": "vehicle.year",
    "Make": "vehicle.make",
    "Model": "vehicle.model",
    "Color": "vehicle.color",
    "Mileage In": "vehicle.mileage_in",
    "Mileage Out": "vehicle.mileage_out",
    "Labor Total": "totals.labor",
    "Parts Total": "totals.parts",
    "Sublet": "totals.sublet",
    "Shop Supplies": "totals.shop_supplies",
    "Hazardous": "totals.hazardous",
    "Tax": "totals.tax",
    "Discount": "totals.discount",
    "Total Due": "totals.total_due",
}
LINE_LABELS = {"Complaint": "complaint", "Cause": "cause", "Correction": "correction"}
ITEM_LABELS = ("Labor", "Part")
_ALL = sorted([*HEADER_LABELS, *LINE_LABELS, *ITEM_LABELS], key=len, reverse=True)
_LABEL = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(x) for x in _ALL) + r"):\s*")
_LINE_HEAD = re.compile(r"^\s*Line\s+([A-Z]{1,2})\s*\(([a-z_]+)\)\s*$")
_ADVISOR = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")
_TECH = re.compile(r"^(.*?)\s*#\s*(\S+)\s*$")


class UnreadablePdf(ValueError):
    """pypdf could not read the file."""


def extract_text(content: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise UnreadablePdf("the PDF is encrypted")
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, TypeError, KeyError, OSError, AttributeError) as exc:
        if isinstance(exc, UnreadablePdf):
            raise
        raise UnreadablePdf(f"cannot read the PDF ({type(exc).__name__})") from None


def parse_text(text: str) -> list[dict[str, Any]]:
    """One record per 'RO Number:' label; text before the first one is ignored."""
    chunks = re.split(r"(?=(?:^|\n)\s*RO Number:)", text)
    return [_parse_one(chunk) for chunk in chunks if "RO Number:" in chunk]


def _fields(line: str) -> list[tuple[str, str]]:
    """`Label: value` pairs on one text line (several may share a line).

    Only the story fields (complaint, cause, correction) continue onto unlabelled lines;
    a wrapped header value would otherwise swallow whatever the page prints next.
    """
    matches = list(_LABEL.finditer(line))
    return [
        (
            m.group(1),
            line[m.end() : matches[i + 1].start() if i + 1 < len(matches) else None].strip(),
        )
        for i, m in enumerate(matches)
    ]


def _parse_one(chunk: str) -> dict[str, Any]:
    record: dict[str, Any] = {"lines": []}
    current_line: dict[str, Any] | None = None
    last: tuple[dict[str, Any], str] | None = None
    for raw in chunk.splitlines():
        head = _LINE_HEAD.match(raw)
        if head:
            current_line = {
                "line": head.group(1),
                "status": head.group(2),
                "labor": [],
                "parts": [],
            }
            record["lines"].append(current_line)
            last = None
            continue
        pairs = _fields(raw)
        if not pairs:
            if last is not None and raw.strip():
                target, key = last
                target[key] = f"{target[key]} {raw.strip()}".strip()
            continue
        for label, value in pairs:
            last = _store(record, current_line, label, value)
    return record


def _store(
    record: dict[str, Any], line: dict[str, Any] | None, label: str, value: str
) -> tuple[dict[str, Any], str] | None:
    if label in LINE_LABELS and line is not None:
        line[LINE_LABELS[label]] = value
        return line, LINE_LABELS[label]
    if label == "Labor" and line is not None:
        line["labor"].append(_labor(value))
        return None
    if label == "Part" and line is not None:
        line["parts"].append(_part(value))
        return None
    path = HEADER_LABELS.get(label)
    if path is None:
        return None
    if path == "advisor":
        m = _ADVISOR.match(value)
        record["advisor"] = {"name": m.group(1), "tag": m.group(2)} if m else {"name": value}
        return None
    if path == "customer.phones":
        value_list: Any = [p.strip() for p in value.split(";") if p.strip()]
        _put(record, path, value_list)
        return None
    _put(record, path, value)
    return None


def _put(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, leaf = path.split(".")
    target = record
    for key in parents:
        target = target.setdefault(key, {})
    target[leaf] = value or None
    return target


def _cells(value: str, count: int) -> list[str | None]:
    cells: list[str | None] = [c.strip() or None for c in value.split("|")]
    return (cells + [None] * count)[:count]


def _labor(value: str) -> dict[str, Any]:
    op, desc, tech, hours, amount, pay = _cells(value, 6)
    technician: dict[str, Any] | None = None
    if tech:
        m = _TECH.match(tech)
        technician = {"name": m.group(1), "code": m.group(2)} if m else {"name": tech}
    return {
        "op_code": op,
        "description": desc,
        "technician": technician,
        "hours": (hours or "").removesuffix("h").strip() or None,
        "amount": amount,
        "pay_type": pay,
    }


def _part(value: str) -> dict[str, Any]:
    number, desc, qty, price = _cells(value, 4)
    return {"part_number": number, "description": desc, "quantity": qty or "1", "unit_price": price}


def render_text(record: dict[str, Any]) -> str:
    """The layout above for one canonical record (lines of text, one field per line)."""
    c = record.get("customer") or {}
    address = c.get("address") or {}
    vehicle = record.get("vehicle") or {}
    totals = record.get("totals") or {}
    advisor = record.get("advisor") or {}
    out = [
        "REPAIR ORDER",
        f"RO Number: {record['ro_number']}",
        f"Status: {record.get('status') or ''}",
        f"Opened: {record.get('opened_on') or ''}",
        f"Closed: {record.get('closed_on') or ''}",
        f"Advisor: {advisor.get('name') or ''} ({advisor.get('tag') or ''})",
        f"Customer: {c.get('name') or ''}",
        f"Email: {c.get('email') or ''}",
        f"Phone: {'; '.join(c.get('phones') or [])}",
        f"Street: {address.get('street') or ''}",
        f"City: {address.get('city') or ''}",
        f"State: {address.get('state') or ''}",
        f"Zip: {address.get('zip') or ''}",
        f"Payment: {c.get('payment_method') or ''}",
        f"VIN: {c.get('vin') or ''}",
        f"Plate: {c.get('license_plate') or ''}",
        f"Year: {vehicle.get('year') or ''}",
        f"Make: {vehicle.get('make') or ''}",
        f"Model: {vehicle.get('model') or ''}",
        f"Color: {vehicle.get('color') or ''}",
        f"Mileage In: {vehicle.get('mileage_in') or ''}",
        f"Mileage Out: {vehicle.get('mileage_out') or ''}",
    ]
    for line in record.get("lines") or []:
        out.append(f"Line {line['line']} ({line['status']})")
        for key, label in (
            ("complaint", "Complaint"),
            ("cause", "Cause"),
            ("correction", "Correction"),
        ):
            if line.get(key):
                out.append(f"{label}: {line[key]}")
        for labor in line.get("labor") or []:
            tech = labor.get("technician") or {}
            tech_text = (
                f"{tech.get('name') or ''} #{tech.get('code')}"
                if tech.get("code")
                else (tech.get("name") or "")
            )
            cells = (
                labor.get("op_code"),
                labor.get("description"),
                tech_text,
                f"{labor.get('hours') or ''} h",
                labor.get("amount"),
                labor.get("pay_type"),
            )
            out.append("Labor: " + " | ".join(str(c or "") for c in cells))
        for part in line.get("parts") or []:
            out.append(
                f"Part: {part.get('part_number') or ''} | {part.get('description') or ''} | "
                f"{part.get('quantity') or ''} | {part.get('unit_price') or ''}"
            )
    for key, label in (
        ("labor", "Labor Total"),
        ("parts", "Parts Total"),
        ("sublet", "Sublet"),
        ("shop_supplies", "Shop Supplies"),
        ("hazardous", "Hazardous"),
        ("tax", "Tax"),
        ("discount", "Discount"),
        ("total_due", "Total Due"),
    ):
        if totals.get(key) is not None:
            out.append(f"{label}: {totals[key]}")
    return "\n".join(out)
