"""The canonical repair-order record (`../shared/ro-format.md`) as a validating model.

pydantic collects every problem of a record at once, with its location, which is what an
ingest report needs ("every reason"); unknown keys are ignored here because the original
document, encrypted, keeps them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Money = Annotated[Decimal, Field(max_digits=10, decimal_places=2, allow_inf_nan=False)]
NonNegativeMoney = Annotated[
    Decimal, Field(ge=0, max_digits=10, decimal_places=2, allow_inf_nan=False)
]
PositiveQuantity = Annotated[
    Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)
]


class LineStatus(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    RECOMMENDED = "recommended"
    IN_PROGRESS = "in_progress"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Person(_Model):
    name: Short | None = None
    tag: Short | None = None
    code: Short | None = None


class Vehicle(_Model):
    year: Annotated[int, Field(ge=1886, le=2100)] | None = None
    make: Short | None = None
    model: Short | None = None
    color: Short | None = None
    mileage_in: Annotated[int, Field(ge=0, le=5_000_000)] | None = None
    mileage_out: Annotated[int, Field(ge=0, le=5_000_000)] | None = None

    @model_validator(mode="after")
    def _mileage_order(self) -> Vehicle:
        if (
            self.mileage_in is not None
            and self.mileage_out is not None
            and self.mileage_out < self.mileage_in
        ):
            raise ValueError("mileage_out is lower than mileage_in")
        return self


class Address(_Model):
    street: Short | None = None
    city: Short | None = None
    state: Short | None = None
    zip: Short | None = None


class Customer(_Model):
    """Everything here is PII: it is stored only in the vault, encrypted."""

    name: Short | None = None
    email: Short | None = None
    phones: list[Short] = Field(default_factory=list, max_length=10)
    address: Address | None = None
    payment_method: Short | None = None
    vin: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    license_plate: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None
    ) = None


class Labor(_Model):
    op_code: Short | None = None
    description: Text | None = None
    technician: Person | None = None
    hours: Annotated[Decimal, Field(ge=0, le=9999, max_digits=6, decimal_places=2)] | None = None
    amount: Money | None = None
    pay_type: Short | None = None


class Part(_Model):
    part_number: Short | None = None
    description: Text | None = None
    quantity: PositiveQuantity = Decimal(1)
    unit_price: NonNegativeMoney | None = None


class Line(_Model):
    line: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{1,2}$")
    ]
    status: LineStatus
    complaint: Text | None = None
    cause: Text | None = None
    correction: Text | None = None
    labor: list[Labor] = Field(default_factory=list, max_length=50)
    parts: list[Part] = Field(default_factory=list, max_length=200)


class Totals(_Model):
    labor: Money | None = None
    parts: Money | None = None
    sublet: Money | None = None
    shop_supplies: Money | None = None
    hazardous: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
    total_due: Money | None = None


class RepairOrderRecord(_Model):
    ro_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    status: Short | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    advisor: Person | None = None
    vehicle: Vehicle = Field(default_factory=Vehicle)
    customer: Customer = Field(default_factory=Customer)
    lines: list[Line] = Field(min_length=1, max_length=100)
    totals: Totals = Field(default_factory=Totals)

    @model_validator(mode="after")
    def _consistent(self) -> RepairOrderRecord:
        if self.opened_on and self.closed_on and self.closed_on < self.opened_on:
            raise ValueError("closed_on is before opened_on")
        letters = [line.line for line in self.lines]
        duplicates = sorted({x for x in letters if letters.count(x) > 1})
        if duplicates:
            raise ValueError(f"line letters repeat: {', '.join(duplicates)}")
        return self


def validate(raw: object) -> tuple[RepairOrderRecord | None, list[str]]:
    """The record, or every reason it was refused (never the offending values: they may be PII)."""
    if not isinstance(raw, dict):
        return None, [f"a record must be a JSON object, not {type(raw).__name__}"]
    try:
        return RepairOrderRecord.model_validate(raw), []
    except ValidationError as exc:
        return None, [_reason(err) for err in exc.errors(include_input=False, include_url=False)]


def _reason(err: Any) -> str:
    where = ".".join(str(part) for part in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def ro_number_of(raw: object) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("ro_number")
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()[:64]
    return None
