"""SQL for estimate drafts. Every statement names the tenant on every table it reads, on top of
row-level security, so a mistake in one layer still cannot show one shop another's work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    func,
    literal_column,
    not_,
    select,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t

_RO, _LINE = t.repair_orders, t.ro_lines
_LABOR, _PART = t.ro_labor_lines, t.ro_parts_lines
HISTORY_STATUSES = ("declined", "recommended")
HISTORY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Window:
    """The vehicles a draft learns from: one make, one model (or any), a span of model years
    (or any), less those of `outside` (a narrower window already searched)."""

    make: str
    model: str | None
    years: tuple[int, int] | None
    outside: Window | None = None


@dataclass(frozen=True, slots=True)
class KnownVehicle:
    ro_id: UUID
    year: int | None
    make: str | None
    model: str | None
    vin_bidx: bytes | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class LineRef:
    line_id: UUID
    ro_id: UUID
    ro_number: str
    line_letter: str
    opened_on: dt.date | None
    vehicle_year: int | None
    vehicle_make: str | None
    vehicle_model: str | None
    correction: str  # PII-scrubbed at ingest, like every line's text


@dataclass(frozen=True, slots=True)
class LaborRow:
    line_id: UUID
    operation: str | None
    description: str | None
    hours: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PartRow:
    line_id: UUID
    part_number: str | None
    description: str | None
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """`summary` is the line's complaint and correction, which ingest stored PII-scrubbed."""

    ro_id: UUID
    ro_number: str
    line_letter: str
    status: str
    date: dt.date | None
    summary: str


def _lines_of_ros(tenant_id: UUID) -> ColumnElement[bool]:
    return and_(
        _LINE.c.tenant_id == tenant_id,
        _RO.c.tenant_id == tenant_id,
        _LINE.c.ro_id == _RO.c.ro_id,
    )


def _in_window(tenant_id: UUID, window: Window) -> list[ColumnElement[bool]]:
    conditions = [
        _RO.c.tenant_id == tenant_id,
        func.lower(_RO.c.vehicle_make) == func.lower(window.make),
    ]
    if window.model is not None:
        conditions.append(func.lower(_RO.c.vehicle_model) == func.lower(window.model))
    if window.years is not None:
        conditions.append(_RO.c.vehicle_year.between(*window.years))
    if window.outside is not None:
        # An RO with no model year is outside any span of years, so it is not excluded.
        inside = and_(*_in_window(tenant_id, window.outside))
        conditions.append(not_(func.coalesce(inside, false())))
    return conditions


_VEHICLE = (
    _RO.c.ro_id,
    _RO.c.vehicle_year,
    _RO.c.vehicle_make,
    _RO.c.vehicle_model,
    _RO.c.vin_bidx,
)


async def vehicle_by_ro_number(
    session: AsyncSession, tenant_id: UUID, ro_number: str
) -> KnownVehicle | None:
    row = (
        await session.execute(
            select(*_VEHICLE).where(_RO.c.tenant_id == tenant_id, _RO.c.ro_number == ro_number)
        )
    ).first()
    return KnownVehicle(*row) if row else None


async def vehicle_by_vin(
    session: AsyncSession, tenant_id: UUID, vin_bidx: bytes
) -> KnownVehicle | None:
    """The newest RO of that VIN: a later RO carries any correction to the year or model."""
    row = (
        await session.execute(
            select(*_VEHICLE)
            .where(_RO.c.tenant_id == tenant_id, _RO.c.vin_bidx == vin_bidx)
            .order_by(_RO.c.ro_open_date.desc().nulls_last(), _RO.c.ro_number.desc())
            .limit(1)
        )
    ).first()
    return KnownVehicle(*row) if row else None


async def spelling(
    session: AsyncSession, tenant_id: UUID, make: str, model: str
) -> tuple[str, str] | None:
    """How this shop's ROs spell a make and model typed in any case, most common first."""
    row = (
        await session.execute(
            select(_RO.c.vehicle_make, _RO.c.vehicle_model)
            .where(*_in_window(tenant_id, Window(make, model, None)))
            .group_by(_RO.c.vehicle_make, _RO.c.vehicle_model)
            .order_by(func.count().desc(), _RO.c.vehicle_make, _RO.c.vehicle_model)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def makes_of(session: AsyncSession, tenant_id: UUID, model: str) -> list[tuple[str, str]]:
    """Every (make, model) of this shop's ROs with that model name in any case, most common
    first: a model named without its make."""
    rows = await session.execute(
        select(_RO.c.vehicle_make, _RO.c.vehicle_model)
        .where(
            _RO.c.tenant_id == tenant_id,
            _RO.c.vehicle_make.is_not(None),
            func.lower(_RO.c.vehicle_model) == func.lower(model),
        )
        .group_by(func.lower(_RO.c.vehicle_make), _RO.c.vehicle_make, _RO.c.vehicle_model)
        .order_by(func.count().desc(), _RO.c.vehicle_make, _RO.c.vehicle_model)
    )
    found: dict[str, tuple[str, str]] = {}
    for make, spelled in rows:
        found.setdefault(make.lower(), (make, spelled))
    return list(found.values())


async def window_ro_ids(
    session: AsyncSession, tenant_id: UUID, window: Window, limit: int
) -> list[UUID]:
    """Newest first, so a capped list keeps the prices closest to today's."""
    rows = await session.execute(
        select(_RO.c.ro_id)
        .where(*_in_window(tenant_id, window))
        .order_by(_RO.c.ro_open_date.desc().nulls_last(), _RO.c.ro_id)
        .limit(limit)
    )
    return [r[0] for r in rows]


async def completed_lines(
    session: AsyncSession, tenant_id: UUID, window: Window, ro_ids: Collection[UUID]
) -> list[LineRef]:
    """Re-checks what the search returned against the tables: completed, and in the window."""
    if not ro_ids:
        return []
    rows = await session.execute(
        select(
            _LINE.c.line_id,
            _RO.c.ro_id,
            _RO.c.ro_number,
            _LINE.c.line_letter,
            _RO.c.ro_open_date,
            _RO.c.vehicle_year,
            _RO.c.vehicle_make,
            _RO.c.vehicle_model,
            func.coalesce(_LINE.c.correction, ""),
        )
        .where(
            _lines_of_ros(tenant_id),
            *_in_window(tenant_id, window),
            _RO.c.ro_id.in_(list(ro_ids)),
            _LINE.c.status == "completed",
        )
        .order_by(_RO.c.ro_number, _LINE.c.line_letter)
    )
    return [LineRef(*r) for r in rows]


async def work_descriptions(session: AsyncSession, tenant_id: UUID) -> list[str]:
    """Every distinct labor and part description of the shop: the words it names work with."""
    labor_names = select(_LABOR.c.description.label("d")).where(
        _LABOR.c.tenant_id == tenant_id, _LABOR.c.description.is_not(None)
    )
    part_names = select(_PART.c.description.label("d")).where(
        _PART.c.tenant_id == tenant_id, _PART.c.description.is_not(None)
    )
    rows = await session.execute(union(labor_names, part_names).order_by(literal_column("d")))
    return [r[0] for r in rows]


_STEMS = text("SELECT w, ts_lexize('english_stem', w) FROM unnest(CAST(:words AS text[])) AS w")


async def stems(session: AsyncSession, words: Collection[str]) -> dict[str, str | None]:
    """Each word's Snowball English stem, from the dictionary PostgreSQL's full-text search
    uses ('english'), so "brakes" and "braking" are one word here as they are there; None
    for a stop word."""
    if not words:
        return {}
    rows = await session.execute(_STEMS, {"words": sorted(words)})
    return {w: (found[0] if found else None) for w, found in rows}


async def labor(
    session: AsyncSession, tenant_id: UUID, line_ids: Collection[UUID]
) -> list[LaborRow]:
    """Labor with hours and an amount only: an entry without them cannot be priced."""
    if not line_ids:
        return []
    rows = await session.execute(
        select(
            _LABOR.c.line_id,
            _LABOR.c.operation,
            _LABOR.c.description,
            _LABOR.c.hours,
            _LABOR.c.amount,
        )
        .where(
            _LABOR.c.tenant_id == tenant_id,
            _LABOR.c.line_id.in_(list(line_ids)),
            _LABOR.c.hours.is_not(None),
            _LABOR.c.amount.is_not(None),
        )
        .order_by(_LABOR.c.line_id, _LABOR.c.labor_id)
    )
    return [LaborRow(*r) for r in rows]


async def parts(
    session: AsyncSession, tenant_id: UUID, line_ids: Collection[UUID]
) -> list[PartRow]:
    """Parts with a quantity and a unit price only, for the same reason as labor."""
    if not line_ids:
        return []
    rows = await session.execute(
        select(
            _PART.c.line_id,
            _PART.c.part_number,
            _PART.c.description,
            _PART.c.quantity,
            _PART.c.unit_price,
        )
        .where(
            _PART.c.tenant_id == tenant_id,
            _PART.c.line_id.in_(list(line_ids)),
            _PART.c.quantity.is_not(None),
            _PART.c.unit_price.is_not(None),
        )
        .order_by(_PART.c.line_id, _PART.c.part_line_id)
    )
    return [PartRow(*r) for r in rows]


async def tax_rate(session: AsyncSession, tenant_id: UUID) -> Decimal | None:
    """The exact median of tax / (parts + shop supplies) over the shop's ROs.

    The demo data (like many US shops) taxes parts and shop supplies but not labor, so this
    ratio recovers the shop's own rate from its invoices, with no rate table to maintain.
    Two `percentile_disc` give the two middle values in numeric (`percentile_cont` would
    go through double precision); their mean is the median.
    """
    base = func.coalesce(_RO.c.parts_total, 0) + func.coalesce(_RO.c.shop_supplies, 0)
    ratio = _RO.c.tax_total / base
    row = (
        await session.execute(
            select(
                func.percentile_disc(0.5).within_group(ratio),
                func.percentile_disc(0.5).within_group(-ratio),
            ).where(_RO.c.tenant_id == tenant_id, _RO.c.tax_total.is_not(None), base > 0)
        )
    ).one()
    if row[0] is None:
        return None
    return (Decimal(row[0]) - Decimal(row[1])) / 2


async def open_recommendations(
    session: AsyncSession, tenant_id: UUID, vehicle: KnownVehicle
) -> list[HistoryLine]:
    """Declined and recommended lines on the vehicle's ROs (the one RO when it has no VIN)."""
    same_vehicle = (
        _RO.c.vin_bidx == vehicle.vin_bidx
        if vehicle.vin_bidx is not None
        else _RO.c.ro_id == vehicle.ro_id
    )
    rows = await session.execute(
        select(
            _RO.c.ro_id,
            _RO.c.ro_number,
            _LINE.c.line_letter,
            _LINE.c.status,
            _RO.c.ro_open_date,
            _LINE.c.complaint,
            _LINE.c.correction,
        )
        .where(_lines_of_ros(tenant_id), same_vehicle, _LINE.c.status.in_(HISTORY_STATUSES))
        .order_by(_RO.c.ro_open_date.desc().nulls_last(), _RO.c.ro_number, _LINE.c.line_letter)
        .limit(HISTORY_LIMIT)
    )
    return [
        HistoryLine(*r[:5], " / ".join(s.strip() for s in r[5:] if s and s.strip())) for r in rows
    ]
