"""Turning a repair order into retrieval chunks: one header chunk, one per lettered line.

The input is already PII-scrubbed (it is what the RO tables hold). Every chunk starts with a
context line (RO number, line, date, vehicle) so a piece of a long story is still findable
by vehicle or RO, and every chunk fits the embedder's token limit: a long story is split
into overlapping windows rather than truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

MAX_TOKENS = 240  # all-MiniLM-L6-v2 reads 256 word pieces; a margin for the context line
OVERLAP_TOKENS = 32


@dataclass(frozen=True, slots=True)
class LaborView:
    op_code: str | None
    description: str | None
    technician_name: str | None
    technician_code: str | None
    hours: Decimal | None
    amount: Decimal | None


@dataclass(frozen=True, slots=True)
class PartView:
    part_number: str | None
    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None


@dataclass(frozen=True, slots=True)
class LineView:
    line_id: UUID
    letter: str
    status: str
    complaint: str | None
    cause: str | None
    correction: str | None
    labor: tuple[LaborView, ...] = ()
    parts: tuple[PartView, ...] = ()


@dataclass(frozen=True, slots=True)
class RoView:
    ro_id: UUID
    ro_number: str
    opened_on: date | None
    closed_on: date | None
    status: str | None
    advisor_name: str | None
    advisor_tag: str | None
    year: int | None
    make: str | None
    model: str | None
    color: str | None
    mileage_in: int | None
    mileage_out: int | None
    totals: Mapping[str, Decimal | None] = field(default_factory=dict)
    lines: tuple[LineView, ...] = ()

    @property
    def vehicle(self) -> str:
        return " ".join(str(x) for x in (self.year, self.make, self.model) if x)


@dataclass(frozen=True, slots=True)
class Chunk:
    ro_id: UUID
    line_id: UUID | None
    kind: str
    seq: int
    content: str
    token_count: int


def ro_view(
    header: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    labor: Sequence[Mapping[str, Any]],
    parts: Sequence[Mapping[str, Any]],
) -> RoView:
    """From the rows stored in repair_orders / ro_lines / labor / parts (ingest and reindex)."""
    views = []
    for line in sorted(lines, key=lambda row: (len(row["line_letter"]), row["line_letter"])):
        views.append(
            LineView(
                line_id=line["line_id"],
                letter=line["line_letter"],
                status=line["status"],
                complaint=line.get("complaint"),
                cause=line.get("cause"),
                correction=line.get("correction"),
                labor=tuple(
                    LaborView(
                        r.get("operation"),
                        r.get("description"),
                        r.get("technician_name"),
                        r.get("technician_code"),
                        r.get("hours"),
                        r.get("amount"),
                    )
                    for r in labor
                    if r["line_id"] == line["line_id"]
                ),
                parts=tuple(
                    PartView(
                        r.get("part_number"),
                        r.get("description"),
                        r.get("quantity"),
                        r.get("unit_price"),
                    )
                    for r in parts
                    if r["line_id"] == line["line_id"]
                ),
            )
        )
    return RoView(
        ro_id=header["ro_id"],
        ro_number=header["ro_number"],
        opened_on=header.get("ro_open_date"),
        closed_on=header.get("ro_close_date"),
        status=header.get("ro_status"),
        advisor_name=header.get("advisor_name"),
        advisor_tag=header.get("advisor_tag"),
        year=header.get("vehicle_year"),
        make=header.get("vehicle_make"),
        model=header.get("vehicle_model"),
        color=header.get("vehicle_color"),
        mileage_in=header.get("mileage_in"),
        mileage_out=header.get("mileage_out"),
        totals={
            k: header.get(k)
            for k in (
                "labor_total",
                "parts_total",
                "sublet_total",
                "shop_supplies",
                "hazardous_total",
                "tax_total",
                "discount_total",
                "total_due",
            )
        },
        lines=tuple(views),
    )


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def _tech(name: str | None, code: str | None) -> str:
    return f"{name or ''} ({code})".strip() if code else (name or "")


def header_text(ro: RoView) -> tuple[str, str]:
    technicians = sorted(
        {
            _tech(lab.technician_name, lab.technician_code)
            for line in ro.lines
            for lab in line.labor
            if lab.technician_name
        }
    )
    context = f"RO {ro.ro_number} | {ro.opened_on or ''} | {ro.vehicle}".strip()
    body = [
        f"Repair order {ro.ro_number}, status {ro.status or 'unknown'}, opened "
        f"{ro.opened_on or 'unknown'}" + (f", closed {ro.closed_on}" if ro.closed_on else "") + ".",
        f"Vehicle: {ro.vehicle}"
        + (f", {ro.color}" if ro.color else "")
        + (f", mileage in {ro.mileage_in}" if ro.mileage_in is not None else "")
        + (f", out {ro.mileage_out}" if ro.mileage_out is not None else "")
        + ".",
    ]
    if ro.advisor_name:
        body.append(f"Advisor: {_tech(ro.advisor_name, ro.advisor_tag)}.")
    if technicians:
        body.append(f"Technicians: {', '.join(technicians)}.")
    for line in ro.lines:
        summary = (
            line.labor[0].description
            if line.labor and line.labor[0].description
            else (line.complaint or "")
        )
        body.append(f"Line {line.letter} {line.status}: {summary}")
    totals = ", ".join(
        f"{k.removesuffix('_total').replace('_', ' ')} {_money(v)}"
        for k, v in ro.totals.items()
        if v
    )
    if totals:
        body.append(f"Totals: {totals}.")
    return context, "\n".join(body)


def line_text(ro: RoView, line: LineView) -> tuple[str, str]:
    context = (
        f"RO {ro.ro_number} line {line.letter} ({line.status}) | {ro.opened_on or ''} | "
        f"{ro.vehicle}" + (f" | {ro.mileage_in} mi" if ro.mileage_in else "")
    )
    body = [
        f"{label}: {text}"
        for label, text in (
            ("Complaint", line.complaint),
            ("Cause", line.cause),
            ("Correction", line.correction),
        )
        if text
    ]
    for lab in line.labor:
        pieces = [
            lab.op_code,
            lab.description,
            _tech(lab.technician_name, lab.technician_code),
            f"{lab.hours} h" if lab.hours is not None else None,
            _money(lab.amount),
        ]
        body.append("Labor: " + ", ".join(p for p in pieces if p))
    for part in line.parts:
        qty = f"x{part.quantity.normalize()}" if part.quantity is not None else ""
        price = f"@ {_money(part.unit_price)}" if part.unit_price is not None else ""
        body.append(
            "Part: " + " ".join(p for p in (part.part_number, part.description, qty, price) if p)
        )
    return context, "\n".join(body)


def chunk_ro(
    ro: RoView,
    count_tokens: Callable[[str], int],
    *,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_TOKENS,
) -> list[Chunk]:
    chunks: list[Chunk] = []
    context, body = header_text(ro)
    chunks += _fit(ro.ro_id, None, "header", context, body, count_tokens, max_tokens, overlap)
    for line in ro.lines:
        context, body = line_text(ro, line)
        chunks += _fit(
            ro.ro_id, line.line_id, "line", context, body, count_tokens, max_tokens, overlap
        )
    return chunks


_WORD = re.compile(r"\S+")


def _fit(
    ro_id: UUID,
    line_id: UUID | None,
    kind: str,
    context: str,
    body: str,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap: int,
) -> list[Chunk]:
    whole = f"{context}\n{body}"
    total = count_tokens(whole)
    if total <= max_tokens:
        return [Chunk(ro_id, line_id, kind, 0, whole, total)]
    # WordPiece splits on whitespace first, so per-word counts add up (less the two
    # special tokens each count includes).
    budget = max_tokens - count_tokens(context) - 1
    words = [(m.group(0), max(1, count_tokens(m.group(0)) - 2)) for m in _WORD.finditer(body)]
    pieces: list[str] = []
    start = 0
    while start < len(words):
        used, end = 0, start
        while end < len(words) and used + words[end][1] <= budget:
            used += words[end][1]
            end += 1
        end = max(end, start + 1)
        pieces.append(" ".join(w for w, _ in words[start:end]))
        if end >= len(words):
            break
        back, carried = end, 0
        while back > start + 1 and carried + words[back - 1][1] <= overlap:
            back -= 1
            carried += words[back][1]
        start = back
    out = []
    for seq, piece in enumerate(pieces):
        text = f"{context}\n{piece}"
        out.append(Chunk(ro_id, line_id, kind, seq, text, count_tokens(text)))
    return out
