"""What an estimate request and its draft hold; the draft serialises itself for JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from assistant.estimates.repository import HistoryLine


@dataclass(frozen=True, slots=True)
class EstimateRequest:
    work: str
    year: int | None = None
    make: str | None = None
    model: str | None = None
    ro_number: str | None = None
    vin: str | None = dataclasses.field(default=None, repr=False)


class EstimateError(ValueError):
    """The request cannot be estimated as given (HTTP 422)."""


class VehicleNotFound(EstimateError):
    """The RO number or VIN is not in this shop (HTTP 404)."""


class NoWorkNamed(EstimateError):
    """The request names no repair or service to price (HTTP 422)."""


@dataclass(frozen=True, slots=True)
class Citation:
    ro_id: UUID
    ro_number: str
    line_letter: str
    date: dt.date | None
    vehicle: str  # the cited RO's own: "2018 Toyota Camry"


@dataclass(frozen=True, slots=True)
class LaborEstimate:
    job: str  # the asked job it prices (`JobEstimate.asked`)
    operation: str | None
    description: str | None
    hours: Decimal
    amount: Decimal
    hours_range: tuple[Decimal, Decimal]
    amount_range: tuple[Decimal, Decimal]
    samples: int
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class PartEstimate:
    """`alternative` marks a part number another, more used one does the same job as (same
    description, e.g. another brand's pads): listed for the advisor, not added to the total."""

    job: str
    part_number: str | None
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    price_range: tuple[Decimal, Decimal]
    samples: int
    alternative: bool
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class VehicleUsed:
    year: int | None
    make: str
    model: str
    identified_by: str  # "ro_number", "vin" or "request"


@dataclass(frozen=True, slots=True)
class JobEstimate:
    """One job the request asked for and what it was priced from.

    `match` is "exact" (completed lines of the same work on the vehicle's window), "near"
    (none there: the same work on the model's other years or the make's other models, which
    `reason` names), "none" (no such work on file: nothing is priced for it, `reason` says
    so) or "same" (the same past work as an earlier job, priced once there)."""

    asked: str
    match: str
    reason: str | None
    lines: int


@dataclass(frozen=True, slots=True)
class EstimateDraft:
    vehicle: VehicleUsed
    matched_years: tuple[int, int] | None
    jobs: tuple[JobEstimate, ...]
    labor: tuple[LaborEstimate, ...]
    parts: tuple[PartEstimate, ...]
    subtotal_labor: Decimal
    subtotal_parts: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    related_history: tuple[HistoryLine, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
