"""Estimate drafts: what this shop charged for the same work on similar vehicles.

Nothing is invented. A request is split into the jobs it asks for ("brakes and an oil
change" is two), and each job is priced from the shop's own completed lines that did that
work, on the same make and model within two model years (`matching`). Every figure cites the
lines it was computed from, and medians (not means) keep one unusual job from moving the
price. A job nothing on file did is said to be missing, or priced from the same work on
other vehicles and labelled a near match; it is never priced from other work. A request
naming no work at all is refused (`NoWorkNamed`).
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

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.estimates import repository as repo
from assistant.estimates import work
from assistant.estimates.drafts import (
    Citation,
    EstimateDraft,
    EstimateError,
    EstimateRequest,
    JobEstimate,
    LaborEstimate,
    NoWorkNamed,
    PartEstimate,
    VehicleNotFound,
    VehicleUsed,
)
from assistant.estimates.matching import JobMatch, match_job, normal, op_key
from assistant.estimates.repository import LaborRow, LineRef, PartRow, Window
from assistant.pii import blind_index
from assistant.pii.keyring import KeyRing
from retrieval import query
from retrieval.embedders import Embedder

YEAR_SPAN = 2
MAX_WORK_CHARS = 2000
MAX_FIELD_CHARS = 100
MAX_JOBS = 6
MODEL_YEARS = (1900, 2100)
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.00001")
ZERO = Decimal("0.00")
NO_MATCH = "no completed lines for this work on similar vehicles"
NO_WORK = (
    "the request names no repair or service to price: name the work, "
    "e.g. 'front brakes' or 'oil change and tire rotation'"
)
_Row = TypeVar("_Row", LaborRow, PartRow)


async def draft_estimate(
    session: AsyncSession,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    request: EstimateRequest,
) -> EstimateDraft:
    work_text = (request.work or "").strip()
    if not work_text or len(work_text) > MAX_WORK_CHARS:
        raise EstimateError(f"describe the work in 1 to {MAX_WORK_CHARS} characters")
    try:
        parsed = query.parse(work_text)
    except query.QuestionError as exc:
        raise EstimateError(str(exc)) from None
    vehicle, known = await _resolve(session, ring, tenant_id, request, parsed)
    vehicle_words = (vehicle.make, vehicle.model)
    vocabulary = await _vocabulary(session, tenant_id, [parsed.text, *vehicle_words])
    jobs = work.asked_jobs(parsed.text, vocabulary, vehicle_words)
    if not jobs:
        raise NoWorkNamed(NO_WORK)
    if len(jobs) > MAX_JOBS:
        raise EstimateError(f"ask for at most {MAX_JOBS} jobs in one estimate")
    years = (vehicle.year - YEAR_SPAN, vehicle.year + YEAR_SPAN) if vehicle.year else None
    window = Window(vehicle.make, vehicle.model, years)
    matches = [
        await match_job(session, embedder, tenant_id, job, window, vocabulary) for job in jobs
    ]
    estimates, labor, parts, repeats = _priced(matches)
    measured = await repo.tax_rate(session, tenant_id)
    rate = measured.quantize(RATE_PLACES, ROUND_HALF_UP) if measured is not None else ZERO
    subtotal_labor = sum((item.amount for item in labor), ZERO)
    subtotal_parts = sum((p.total for p in parts if not p.alternative), ZERO)
    tax = _money(rate * subtotal_parts)
    history = await repo.open_recommendations(session, tenant_id, known) if known else []
    return EstimateDraft(
        vehicle=vehicle,
        matched_years=years,
        jobs=tuple(estimates),
        labor=tuple(labor),
        parts=tuple(parts),
        subtotal_labor=subtotal_labor,
        subtotal_parts=subtotal_parts,
        tax_rate=rate,
        tax=tax,
        total=subtotal_labor + subtotal_parts + tax,
        related_history=tuple(history),
        notes=tuple(_notes(estimates, parts, repeats, years, measured)),
    )


async def asked_jobs(
    session: AsyncSession, tenant_id: UUID, text: str, vehicle_words: Iterable[str] = ()
) -> list[work.Job]:
    """The jobs `text` (PII-free) names, in the shop's words; [] when it names no work."""
    vehicle_words = list(vehicle_words)
    vocabulary = await _vocabulary(session, tenant_id, [text, *vehicle_words])
    return work.asked_jobs(text, vocabulary, vehicle_words)


async def _vocabulary(session: AsyncSession, tenant_id: UUID, texts: list[str]) -> work.Vocabulary:
    descriptions = await repo.work_descriptions(session, tenant_id)
    words = work.vocabulary_words(descriptions) | work.words_of(texts)
    return work.Vocabulary.build(await repo.stems(session, words), descriptions)


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
    if model and not make and known is None:  # "the 2019 Civic": the shop's ROs say whose
        makes = await repo.makes_of(session, tenant_id, model)
        if len(makes) > 1:
            raise EstimateError("name the make too: more than one make has that model on file")
        make, model = makes[0] if makes else (None, model)
    if not make or not model:
        raise EstimateError("give the vehicle's make and model, an RO number or a VIN")
    if known is None:
        make, model = await repo.spelling(session, tenant_id, make, model) or (make, model)
    return VehicleUsed(year, make, model, identified_by), known


def _priced(
    matches: list[JobMatch],
) -> tuple[list[JobEstimate], list[LaborEstimate], list[PartEstimate], list[str]]:
    """Each job's labor and parts, merged: an operation or part an earlier job already
    prices (one diagnosis found by two asked jobs) is counted once, with the earlier job,
    and a job whose past work is exactly an earlier job's is marked "same"."""
    estimates: list[JobEstimate] = []
    labor: list[LaborEstimate] = []
    parts: list[PartEstimate] = []
    repeats: list[str] = []
    priced_ops: dict[str, str] = {}
    priced_parts: dict[str, str] = {}
    seen: dict[frozenset[UUID], str] = {}
    for m in matches:
        asked = m.job.asked
        ids = frozenset(line.line_id for line in m.lines)
        if ids and ids in seen:
            reason = f"the same past work as '{seen[ids]}', priced there"
            estimates.append(JobEstimate(asked, "same", reason, len(ids)))
            continue
        if ids:
            seen[ids] = asked
        estimates.append(JobEstimate(asked, m.match, m.reason, len(m.lines)))
        by_id = {line.line_id: line for line in m.lines}
        for item in _labor(asked, by_id, m.labor):
            key = item.operation or normal(item.description)
            if key in priced_ops:
                repeats.append(f"{key} is counted once, with '{priced_ops[key]}'")
                continue
            priced_ops[key] = asked
            labor.append(item)
        for part in _parts(asked, by_id, m.parts):
            key = part.part_number or normal(part.description)
            if key in priced_parts:
                repeats.append(f"part {key} is counted once, with '{priced_parts[key]}'")
                continue
            priced_parts[key] = asked
            parts.append(part)
    return estimates, labor, parts, list(dict.fromkeys(repeats))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _median(values: Iterable[Decimal]) -> Decimal:
    return _money(statistics.median(list(values)))


def _cite(lines: Iterable[LineRef]) -> tuple[Citation, ...]:
    newest_first = sorted(
        lines, key=lambda x: (x.opened_on or dt.date.min, x.ro_number, x.line_letter), reverse=True
    )
    return tuple(
        Citation(x.ro_id, x.ro_number, x.line_letter, x.opened_on, _vehicle(x))
        for x in newest_first
    )


def _vehicle(line: LineRef) -> str:
    return " ".join(str(p) for p in (line.vehicle_year, line.vehicle_make, line.vehicle_model) if p)


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


def _labor(job: str, lines: dict[UUID, LineRef], rows: list[LaborRow]) -> list[LaborEstimate]:
    out = []
    for by_line in _per_line(rows, op_key):
        hours = [sum((r.hours for r in rs), ZERO) for rs in by_line.values()]
        amounts = [sum((r.amount for r in rs), ZERO) for rs in by_line.values()]
        entries = [r for rs in by_line.values() for r in rs]
        out.append(
            LaborEstimate(
                job=job,
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


def _parts(job: str, lines: dict[UUID, LineRef], rows: list[PartRow]) -> list[PartEstimate]:
    """A line's unit price is the quantity-weighted mean of its entries of that part."""
    found = []
    for by_line in _per_line(rows, lambda r: r.part_number or normal(r.description)):
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
                job=job,
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
        groups[normal(part.description or part.part_number)].append(part)
    out = []
    for group in groups.values():
        group.sort(
            key=lambda p: (p.samples, p.citations[0].date or dt.date.min, p.part_number or ""),
            reverse=True,
        )
        out += [group[0], *(dataclasses.replace(p, alternative=True) for p in group[1:])]
    return sorted(out, key=lambda p: (p.alternative, -p.samples, p.part_number or ""))


def _notes(
    jobs: list[JobEstimate],
    parts: list[PartEstimate],
    repeats: list[str],
    years: tuple[int, int] | None,
    measured_rate: Decimal | None,
) -> Iterable[str]:
    if not any(job.lines for job in jobs):
        yield NO_MATCH
    for job in jobs:
        if job.match in ("none", "near") and job.reason:
            yield job.reason
        elif job.match == "exact" and job.lines == 1:
            yield f"'{job.asked}' is based on a single past line: check it is the work asked for"
    if any(job.match == "near" for job in jobs):
        yield "the total includes near matches: check them before sending"
    yield from repeats
    if years is None:
        yield "no model year given: every model year of this make and model was used"
    alternatives = sum(p.alternative for p in parts)
    if alternatives:
        yield f"{alternatives} alternative part number(s) listed, not counted in the parts subtotal"
    if measured_rate is None:
        yield "no past RO shows tax on parts: the tax rate is 0"
    if any(job.lines for job in jobs):
        yield "shop supplies, hazardous-waste fees and discounts are not included"
