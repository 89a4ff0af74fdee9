"""Estimate drafts: what this shop charged for the same work on similar vehicles.

Nothing is invented. Every operation and part comes from the shop's own completed lines on
the same make and model within two model years, every figure cites the lines it was
computed from, and medians (not means) keep one unusual job from moving the price. A
request nothing matches gets an empty draft that says so, not an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar
from uuid import UUID

import anyio
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.estimates import repository as repo
from assistant.estimates.drafts import (
    Citation,
    EstimateDraft,
    EstimateError,
    EstimateRequest,
    LaborEstimate,
    PartEstimate,
    VehicleNotFound,
    VehicleUsed,
)
from assistant.estimates.repository import LaborRow, LineRef, PartRow, Window
from assistant.pii import blind_index
from assistant.pii.keyring import KeyRing
from retrieval import query
from retrieval.embedders import Embedder
from retrieval.search import Filters, search

YEAR_SPAN = 2
MAX_WORK_CHARS = 2000
MAX_FIELD_CHARS = 100
MODEL_YEARS = (1900, 2100)
WINDOW_ROS = 1000  # newest ROs of the window the search looks at
SEARCH_K = 50
RELATIVE_CUTOFF = 0.6
MAX_LINES = 10
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.00001")
ZERO = Decimal("0.00")
NO_MATCH = "no completed lines for this work on similar vehicles"
_Row = TypeVar("_Row", LaborRow, PartRow)


async def draft_estimate(
    session: AsyncSession,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    request: EstimateRequest,
) -> EstimateDraft:
    work = (request.work or "").strip()
    if not work or len(work) > MAX_WORK_CHARS:
        raise EstimateError(f"describe the work in 1 to {MAX_WORK_CHARS} characters")
    try:
        parsed = query.parse(work)
    except query.QuestionError as exc:
        raise EstimateError(str(exc)) from None
    vehicle, known = await _resolve(session, ring, tenant_id, request, parsed)
    years = (vehicle.year - YEAR_SPAN, vehicle.year + YEAR_SPAN) if vehicle.year else None
    window = Window(vehicle.make, vehicle.model, years)
    lines, labor_rows = await _matching_lines(session, embedder, tenant_id, parsed, window)
    part_rows = await repo.parts(session, tenant_id, [line.line_id for line in lines])
    by_id = {line.line_id: line for line in lines}
    labor = _labor(by_id, labor_rows)
    parts = _parts(by_id, part_rows)
    measured = await repo.tax_rate(session, tenant_id)
    rate = measured.quantize(RATE_PLACES, ROUND_HALF_UP) if measured is not None else ZERO
    subtotal_labor = sum((item.amount for item in labor), ZERO)
    subtotal_parts = sum((p.total for p in parts if not p.alternative), ZERO)
    tax = _money(rate * subtotal_parts)
    history = await repo.open_recommendations(session, tenant_id, known) if known else []
    return EstimateDraft(
        vehicle=vehicle,
        matched_years=years,
        labor=tuple(labor),
        parts=tuple(parts),
        subtotal_labor=subtotal_labor,
        subtotal_parts=subtotal_parts,
        tax_rate=rate,
        tax=tax,
        total=subtotal_labor + subtotal_parts + tax,
        related_history=tuple(history),
        notes=tuple(_notes(lines, parts, years, measured)),
    )


def _clean(value: str | None, name: str) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > MAX_FIELD_CHARS:
        raise EstimateError(f"the {name} is longer than {MAX_FIELD_CHARS} characters")
    return cleaned or None


async def _resolve(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    request: EstimateRequest,
    parsed: query.ParsedQuestion,
) -> tuple[VehicleUsed, repo.KnownVehicle | None]:
    """The identified vehicle wins over typed fields, which only fill what its RO lacks. An
    RO number or VIN typed into the work text counts only when no vehicle field is given."""
    ro_number = (_clean(request.ro_number, "RO number") or "").lstrip("#") or None
    vin = _clean(request.vin, "VIN")
    year, make, model = request.year, _clean(request.make, "make"), _clean(request.model, "model")
    if year is not None and not MODEL_YEARS[0] <= year <= MODEL_YEARS[1]:
        raise EstimateError("the model year is out of range")
    if not (ro_number or vin or year or make or model):
        ro_number = parsed.ro_numbers[0] if parsed.ro_numbers else None
        vin = parsed.vins[0] if parsed.vins and not ro_number else None
    known: repo.KnownVehicle | None = None
    identified_by = "request"
    if ro_number:
        known, identified_by = (
            await repo.vehicle_by_ro_number(session, tenant_id, ro_number),
            "ro_number",
        )
        if known is None:
            raise VehicleNotFound(f"no RO {ro_number} in this shop")
    elif vin:
        key = blind_index.vin_index(ring, tenant_id, vin)
        if key is None:
            raise EstimateError("the VIN has no letters or digits")
        known, identified_by = await repo.vehicle_by_vin(session, tenant_id, key), "vin"
        if known is None:
            raise VehicleNotFound("no RO in this shop has that VIN")
    if known is not None:
        year = known.year or year
        make, model = known.make or make, known.model or model
    if not make or not model:
        raise EstimateError("give the vehicle's make and model, an RO number or a VIN")
    if known is None:
        make, model = await repo.spelling(session, tenant_id, make, model) or (make, model)
    return VehicleUsed(year, make, model, identified_by), known


async def _matching_lines(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: UUID,
    parsed: query.ParsedQuestion,
    window: Window,
) -> tuple[list[LineRef], list[LaborRow]]:
    """The past lines a draft is built from, and their labor.

    The search, confined to the window's ROs, finds the candidates. Its fused scores are
    reciprocal ranks, so a cutoff relative to the best line (0.6) keeps the lines that both
    the meaning and the words rank near the top, and drops those only one of them found (at
    most half the best score) unless nothing better exists. Ranks over whole line stories
    are too flat to choose the work, though: "check engine light" ties a diagnosis with an
    oil change whose story says "checked all fluids". So the draft is for one job, a set of
    labor operations, and the job is the candidate whose operation descriptions read closest
    to the request. Mixing jobs would price work nobody asked for: a request naming two jobs
    gets the better matched one, and the advisor asks again for the other.
    """
    ro_ids = await repo.window_ro_ids(session, tenant_id, window, WINDOW_ROS)
    if not ro_ids:
        return [], []
    filters = Filters(
        make=window.make, model=window.model, ro_ids=tuple(ro_ids), line_status=("completed",)
    )
    result = await search(session, embedder, tenant_id, parsed, filters, k=SEARCH_K)
    hits = [h for h in result.hits if h.kind == "line" and h.line_letter]
    found = await repo.completed_lines(session, tenant_id, window, {h.ro_id for h in hits})
    verified = {(line.ro_id, line.line_letter): line for line in found}
    ranked: dict[tuple[UUID, str], tuple[float, LineRef]] = {}
    for hit in hits:
        key = (hit.ro_id, hit.line_letter or "")
        if key in verified and key not in ranked:
            ranked[key] = (hit.score, verified[key])
    if not ranked:
        return [], []
    best = next(iter(ranked.values()))[0]
    close = [(score, line) for score, line in ranked.values() if score >= RELATIVE_CUTOFF * best]
    labor = await repo.labor(session, tenant_id, [line.line_id for _, line in close])
    jobs: dict[UUID, set[str]] = defaultdict(set)
    for row in labor:
        jobs[row.line_id].add(_op_key(row))
    if not jobs:
        return [close[0][1]], []
    job = await _closest_job(embedder, parsed.text, close, labor, jobs)
    chosen = sorted(
        (line for _, line in close if jobs.get(line.line_id) == job),
        key=lambda line: (line.opened_on or dt.date.min, line.ro_number, line.line_letter),
        reverse=True,
    )[:MAX_LINES]
    ids = {line.line_id for line in chosen}
    return chosen, [row for row in labor if row.line_id in ids]


async def _closest_job(
    embedder: Embedder,
    request: str,
    close: list[tuple[float, LineRef]],
    labor: list[LaborRow],
    jobs: dict[UUID, set[str]],
) -> set[str]:
    """Each job scores its best line's search score relative to the best line (0.6 to 1)
    plus the cosine similarity of the request to its operation descriptions (about 0 to 0.9):
    a clear description match outweighs a small rank difference, not a clear search win."""
    named = {_op_key(row): row.description or row.operation or "" for row in labor}
    support: dict[frozenset[str], float] = {}
    for score, line in close:
        if line.line_id in jobs:
            key = frozenset(jobs[line.line_id])
            support[key] = max(support.get(key, 0.0), score / close[0][0])
    candidates = list(support)
    texts = [request, *("; ".join(sorted(named[op] for op in ops)) for ops in candidates)]
    vectors = await anyio.to_thread.run_sync(embedder.embed, texts)
    norms = np.linalg.norm(vectors, axis=1)
    similarity = (vectors[1:] @ vectors[0]) / np.maximum(norms[1:] * norms[0], 1e-12)
    totals = [support[job] + float(sim) for job, sim in zip(candidates, similarity, strict=True)]
    return set(candidates[totals.index(max(totals))])


def _normal(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _op_key(row: LaborRow) -> str:
    return row.operation or _normal(row.description)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _median(values: Iterable[Decimal]) -> Decimal:
    return _money(statistics.median(list(values)))


def _cite(lines: Iterable[LineRef]) -> tuple[Citation, ...]:
    newest_first = sorted(
        lines, key=lambda x: (x.opened_on or dt.date.min, x.ro_number, x.line_letter), reverse=True
    )
    return tuple(Citation(x.ro_id, x.ro_number, x.line_letter, x.opened_on) for x in newest_first)


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _per_line(rows: Iterable[_Row], key: Callable[[_Row], str]) -> list[dict[UUID, list[_Row]]]:
    """Rows grouped by operation or part, then by past line: one line is one sample, so an
    operation or part entered twice on a line counts once, as the line's sum."""
    groups: dict[str, dict[UUID, list[_Row]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        groups[key(row)][row.line_id].append(row)
    return list(groups.values())


def _labor(lines: dict[UUID, LineRef], rows: list[LaborRow]) -> list[LaborEstimate]:
    out = []
    for by_line in _per_line(rows, _op_key):
        hours = [sum((r.hours for r in rs), ZERO) for rs in by_line.values()]
        amounts = [sum((r.amount for r in rs), ZERO) for rs in by_line.values()]
        entries = [r for rs in by_line.values() for r in rs]
        out.append(
            LaborEstimate(
                operation=_most_common(r.operation for r in entries),
                description=_most_common(r.description for r in entries),
                hours=_median(hours),
                amount=_median(amounts),
                hours_range=(min(hours), max(hours)),
                amount_range=(min(amounts), max(amounts)),
                samples=len(by_line),
                citations=_cite(lines[line_id] for line_id in by_line),
            )
        )
    return sorted(out, key=lambda x: (-x.samples, x.operation or "", x.description or ""))


def _parts(lines: dict[UUID, LineRef], rows: list[PartRow]) -> list[PartEstimate]:
    """A line's unit price is the quantity-weighted mean of its entries of that part."""
    found = []
    for by_line in _per_line(rows, lambda r: r.part_number or _normal(r.description)):
        quantities = [sum((r.quantity for r in rs), ZERO) for rs in by_line.values()]
        spent = [sum((r.quantity * r.unit_price for r in rs), ZERO) for rs in by_line.values()]
        prices = [
            _money(total / q) if q else rs[0].unit_price
            for rs, q, total in zip(by_line.values(), quantities, spent, strict=True)
        ]
        entries = [r for rs in by_line.values() for r in rs]
        quantity, unit_price = _median(quantities), _median(prices)
        found.append(
            PartEstimate(
                part_number=_most_common(r.part_number for r in entries),
                description=_most_common(r.description for r in entries),
                quantity=quantity,
                unit_price=unit_price,
                total=_money(quantity * unit_price),
                price_range=(min(prices), max(prices)),
                samples=len(by_line),
                alternative=False,
                citations=_cite(lines[line_id] for line_id in by_line),
            )
        )
    return _mark_alternatives(found)


def _mark_alternatives(parts: list[PartEstimate]) -> list[PartEstimate]:
    """Per description, the part number used most (then most recently) is the one priced."""
    groups: dict[str, list[PartEstimate]] = defaultdict(list)
    for part in parts:
        groups[_normal(part.description or part.part_number)].append(part)
    out = []
    for group in groups.values():
        group.sort(
            key=lambda p: (p.samples, p.citations[0].date or dt.date.min, p.part_number or ""),
            reverse=True,
        )
        out += [group[0], *(dataclasses.replace(p, alternative=True) for p in group[1:])]
    return sorted(out, key=lambda p: (p.alternative, -p.samples, p.part_number or ""))


def _notes(
    lines: list[LineRef],
    parts: list[PartEstimate],
    years: tuple[int, int] | None,
    measured_rate: Decimal | None,
) -> Iterable[str]:
    if not lines:
        yield NO_MATCH
    elif len(lines) == 1:
        yield "based on a single past line: check that it is the work asked for"
    if years is None:
        yield "no model year given: every model year of this make and model was used"
    alternatives = sum(p.alternative for p in parts)
    if alternatives:
        yield f"{alternatives} alternative part number(s) listed, not counted in the parts subtotal"
    if measured_rate is None:
        yield "no past RO shows tax on parts: the tax rate is 0"
    if lines:
        yield "shop supplies, hazardous-waste fees and discounts are not included"
