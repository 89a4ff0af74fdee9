"""Repair-order lines as a technician writes them: concern, cause, correction, labor, parts.

Measurements in the text are drawn per line, so two brake jobs never read identically,
while op codes, part numbers and flat-rate hours stay stable per model the way a real
shop's history does. Work a customer puts off is returned as a pending key, so the
generator can bring the same job back on the vehicle's next visit.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.demo import catalog
from assistant.demo.reference import Fix, Op, PartUse, Recall, TroubleCode, jobs, trouble_codes
from assistant.demo.vehicles import ModelSpec

_FIXED_TIME = ("LOF", "DIAG", "TIRE", "ALIGN", "FILT", "WIPER", "RCL", "EVAP-CAP", "BATT")
_BODY_HOURS = {"car": 1.0, "van": 1.1, "suv": 1.1, "truck": 1.2}
_OIL_QUARTS = {4: 5, 6: 6, 8: 7}
_CVT_MAKES = ("Nissan", "Subaru")
_COMMON_CODES = frozenset(
    {
        *("P0300", "P0301", "P0302", "P0303", "P0304", "P0420", "P0171", "P0174", "P0442"),
        *("P0455", "P0456", "P0128", "P0135", "P0141", "P0401", "P0440", "P0446", "P0011"),
        *("P0016", "P0505", "P0507", "C0035", "C0040", "P0562", "P0700"),
    }
)
_DIAG: dict[str, tuple[Op, str, str]] = {
    "abs": (("DIAG-ABS", "Diagnose ABS/traction control light", 1.0), "ABS module", "ABS"),
    "srs": (("DIAG-SRS", "Diagnose airbag light", 1.0), "SRS module", "airbag"),
    "network": (("DIAG-NET", "Diagnose network communication fault", 1.5), "all modules", "MIL"),
    "transmission": (("DIAG-CEL", "Diagnose check engine light", 1.0), "PCM/TCM", "MIL"),
}
_DEFAULT_DIAG: tuple[Op, str, str] = (
    ("DIAG-CEL", "Diagnose check engine light", 1.0),
    "PCM",
    "MIL",
)
_ENDINGS = {
    "abs": ("ABS and traction lights off after road test.",),
    "srs": ("Airbag light off, SRS self-test passes.",),
    "evap": ("Ran EVAP monitor, passed.", "Cleared codes, EVAP monitor set ready."),
    "misfire": ("Misfire counts 0 on all cylinders after road test.",),
}
_GENERIC_ENDINGS = (
    "Cleared codes, road tested {miles} miles, monitors complete, no codes returned.",
    "Cleared codes, road tested OK, no codes returned.",
    "Cleared DTCs, drove {miles} miles through a full drive cycle, no codes.",
)

_GENERATORS: dict[str, Callable[[random.Random], object]] = {
    "mm": lambda r: r.choice((2, 3, 3, 4)),
    "runout": lambda r: r.randint(3, 6),
    "tread": lambda r: r.choice((2, 3, 3, 4)),
    "tread_f": lambda r: r.choice((5, 6, 7)),
    "tread_r": lambda r: r.choice((4, 5, 6)),
    "cca": lambda r: r.randint(22, 42) * 10,
    "rated": lambda r: r.choice((500, 600, 640, 700, 760, 800)),
    "volts": lambda r: f"{r.uniform(13.9, 14.6):.1f}",
    "low_volts": lambda r: f"{r.uniform(11.9, 12.7):.1f}",
    "vent": lambda r: r.randint(58, 74),
    "cold_vent": lambda r: r.randint(38, 45),
    "low_psi": lambda r: r.randint(12, 22),
    "charge": lambda r: r.randint(6, 14),
    "side": lambda r: r.choice(("left", "right")),
    "wheel": lambda r: r.choice(("left front", "right front", "left rear", "right rear")),
    "toe": lambda r: f"0.{r.randint(18, 45)}",
    "camber": lambda r: r.randint(2, 9),
    "moisture": lambda r: r.choice((3, 4, 5)),
    "freeze": lambda r: r.choice((-5, 0, 5, 10)),
    "oil_life": lambda r: r.randint(0, 15),
    "miles": lambda r: r.randint(6, 18),
    "drop": lambda r: r.randint(8, 20),
    "maf_gs": lambda r: f"{r.uniform(1.1, 1.9):.1f}",
    "fp": lambda r: r.randint(28, 44),
    "deg": lambda r: r.randint(7, 12),
    "oilpsi": lambda r: r.randint(18, 30),
    "wire_spot": lambda r: r.choice(
        (
            "harness chafed through on the exhaust bracket",
            "green corrosion in the connector, terminal spread",
            "wire broken inside the insulation at the loom clip",
            "rodent damage to the harness at the firewall",
        )
    ),
    "vac_spot": lambda r: r.choice(
        ("PCV hose at the valve cover", "brake booster vacuum hose", "intake boot behind the MAF")
    ),
}


class _Values(dict[str, object]):
    """Template values drawn only when a template asks for them, to keep generation fast."""

    def __init__(self, rng: random.Random, fixed: dict[str, object]) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> object:
        value = _GENERATORS[key](self.rng)
        self[key] = value
        return value


@dataclass(slots=True)
class Visit:
    """What a line needs to know about the car and the shop on the day it comes in."""

    rng: random.Random
    spec: ModelSpec
    year: int
    cylinders: int
    when: date
    mileage: int
    shop_key: str
    oem_share: int
    tire_brand: int
    values: _Values = field(init=False)

    def __post_init__(self) -> None:
        self.new_line()

    def new_line(self) -> None:
        """Fresh measurements per line, shared by its concern, cause and correction."""
        fixed: dict[str, object] = {
            "mileage": f"{self.mileage:,}",
            "tire_size": self.spec.tire_size,
        }
        self.values = _Values(self.rng, fixed)

    def fill(self, template: str, **extra: object) -> str:
        self.values.update(extra)
        text = template.format_map(self.values)
        return text[0].upper() + text[1:] if text else text


@dataclass(slots=True)
class Draft:
    """A line before the order letters, staffs and prices it (status can still change)."""

    category: str
    status: str
    complaint: str
    cause: str
    correction: str
    ops: list[Op] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)
    pay_type: str = "customer"
    fluids: bool = False
    tires: int = 0
    later: str | None = None


def _hours(visit: Visit, op: Op) -> Op:
    code, description, hours = op
    if not code.startswith(_FIXED_TIME):
        hours *= _BODY_HOURS[visit.spec.body]
        hours *= 0.92 + (zlib.crc32(f"{visit.spec.model}|{code}".encode()) % 160) / 1000
    if code == "IGN-PLUGS" and visit.cylinders > 4:
        hours *= 1.9 if visit.cylinders == 6 else 1.5
    if visit.rng.random() < 0.12:
        hours += visit.rng.choice((-0.2, -0.1, 0.1, 0.2, 0.3))
    return code, description, max(0.1, round(hours, 1))


def _parts(
    visit: Visit, uses: tuple[PartUse, ...], *, warranty: bool = False
) -> list[dict[str, Any]]:
    rng, spec, when = visit.rng, visit.spec, visit.when
    out = []
    for kind, qty in uses:
        if kind == "tire":
            number, description, price = catalog.tire(rng, visit.tire_brand, spec, when)
        elif kind.startswith("cons:") or kind in ("oil", "refrigerant"):
            key = kind.removeprefix("cons:")
            if kind == "oil":
                key, qty = catalog.engine_oil(spec, visit.year), _OIL_QUARTS[visit.cylinders]
            elif kind == "refrigerant":
                key = "r1234yf" if visit.year >= 2017 else "r134a"
            elif key == "atf" and spec.make in _CVT_MAKES:
                key = "cvt_fluid"
            number, description, price = catalog.consumable(rng, key, when)
        else:
            salt = f"{visit.shop_key}|{spec.model}|{kind}"
            oem = warranty or zlib.crc32(salt.encode()) % 100 < visit.oem_share
            generation = (visit.year - spec.first_year) // 6
            number = catalog.part_number(kind, spec.make, spec.model, generation, oem)
            description = (
                "Oil filter" if kind == "oil_filter" else catalog.PART_KINDS[kind].description
            )
            price = 0.0 if warranty else catalog.unit_price(rng, kind, number, spec, when, oem=oem)
        quantity = qty or visit.cylinders
        out.append(
            {
                "part_number": number,
                "description": description,
                "quantity": quantity,
                "unit_price": price,
            }
        )
    return out


def job_line(visit: Visit, key: str, *, returning_ro: str | None = None) -> Draft:
    visit.new_line()
    job = jobs()[key]
    rng = visit.rng
    complaint = rng.choice(job.complaints)
    if returning_ro is not None:
        complaint = f"Customer returns for {job.advice} recommended on RO {returning_ro}."
    ops, correction = list(job.ops), visit.fill(rng.choice(job.corrections))
    if key == "oil_synthetic" and catalog.engine_oil(visit.spec, visit.year) == "oil_conv":
        ops = [("LOF-CONV", "Conventional oil and filter change", 0.5)]
        correction = correction.replace("synthetic oil", "oil")
    return Draft(
        category=job.category,
        status="completed",
        complaint=visit.fill(complaint),
        cause=visit.fill(rng.choice(job.causes)),
        correction=correction,
        ops=[_hours(visit, op) for op in ops],
        parts=_parts(visit, job.parts),
        fluids=job.fluids,
        tires=job.tires,
    )


def deferred_line(visit: Visit, key: str) -> Draft:
    visit.new_line()
    job = jobs()[key]
    advice = visit.fill(job.advice).lower()
    if visit.rng.random() < 0.55:
        status, correction = "declined", f"Recommended {advice}; customer declined."
    else:
        soon = visit.rng.choice(("at next service", "within 3,000 miles", "next visit"))
        status, correction = "recommended", f"Recommend {advice} {soon}."
    return Draft(
        category=job.category,
        status=status,
        complaint=visit.fill(job.finding),
        cause=f"Noted during multi-point inspection at {visit.mileage:,} miles.",
        correction=correction,
        later=key,
    )


def _applies(code: TroubleCode, visit: Visit) -> bool:
    cylinder = re.search(r"Cylinder (\d)", code.title)
    if cylinder and int(cylinder.group(1)) > visit.cylinders:
        return False
    if "Bank 2" in code.title and visit.cylinders < 6:
        return False
    return not code.code.startswith("P3") or visit.cylinders == 8


def _code_values(code: TroubleCode, visit: Visit) -> dict[str, object]:
    cylinder = re.search(r"Cylinder (\d)", code.title)
    cyl = int(cylinder.group(1)) if cylinder else visit.rng.randint(1, visit.cylinders)
    sensor = re.search(r"Bank (\d),? Sensor (\d)", code.title)
    bank, position = sensor.groups() if sensor else ("1", "2" if "P0420" in code.code else "1")
    where = "upstream" if position == "1" else "downstream"
    return {"cyl": cyl, "cyl2": cyl % visit.cylinders + 1, "o2": f"bank {bank} {where}"}


def pick_code(visit: Visit) -> TroubleCode:
    candidates = [c for c in trouble_codes() if _applies(c, visit)]
    weights = [5 if c.code in _COMMON_CODES else 1 for c in candidates]
    return visit.rng.choices(candidates, weights=weights)[0]


def _cause_text(cause: str, fix: Fix) -> str:
    text = re.sub(r"\s*\([^)]*\)", "", cause)
    if text.lower().startswith("sensor "):
        text = fix.op[1].removeprefix("Replace ") + text[6:]
    return text if text[1:2].isupper() else text[0].lower() + text[1:]


def dtc_lines(
    visit: Visit,
    code: TroubleCode,
    *,
    cause_index: int | None = None,
    returning_ro: str | None = None,
) -> list[Draft]:
    """The diagnosis and repair of one stored code; a major repair is often put off."""
    visit.new_line()
    rng = visit.rng
    if cause_index is None:
        cause_index = rng.choices(range(len(code.causes)), [w for _, w, _ in code.causes])[0]
    cause, _, fix = code.causes[cause_index]
    visit.values.update(_code_values(code, visit))
    diag_op, module, light = _DIAG.get(code.family, _DEFAULT_DIAG)
    scan = f"{code.code} {code.title}."
    test = visit.fill(fix.test)
    found = f"Confirmed {_cause_text(cause, fix)}."
    action = visit.fill(fix.action)
    ending = visit.fill(rng.choice(_ENDINGS.get(code.family, _GENERIC_ENDINGS)))
    category = "diagnosis" if code.family not in ("abs", "srs") else code.family
    repair_ops = [_hours(visit, fix.op)]
    description = fix.op[1]
    advice = (
        f"replacing {description.removeprefix('Replace ')}"
        if description.startswith("Replace ")
        else description.lower()
    )
    if returning_ro is not None:
        return [
            Draft(
                category=category,
                status="completed",
                complaint=(
                    f"Customer approved {advice} for {code.code} diagnosed on RO {returning_ro}."
                ),
                cause=f"Rechecked, {code.code} still stored. {test} {found}",
                correction=f"{action}. {ending}",
                ops=repair_ops,
                parts=_parts(visit, fix.parts),
            )
        ]
    opener = rng.choice(
        (f"Verified {light} on.", "Verified concern.", f"Confirmed {light} illuminated.")
    )
    freeze = ""
    if rng.random() < 0.3:
        freeze = f" Freeze frame: {rng.randint(0, 65)} mph, ECT {rng.randint(150, 205)}F."
    diagnosis = f"{opener} Scanned {module}: {scan}{freeze} {test} {found}"
    complaint = visit.fill(rng.choice(code.complaints))
    if fix.major and rng.random() < 0.55:
        declined = rng.random() < 0.6
        return [
            Draft(
                category=category,
                status="completed",
                complaint=complaint,
                cause=diagnosis,
                correction=f"Diagnosis complete. Estimate given for {advice}; codes left stored.",
                ops=[_hours(visit, diag_op)],
            ),
            Draft(
                category=category,
                status="declined" if declined else "recommended",
                complaint=f"Repair for {code.code} per diagnosis: {advice}.",
                cause=found,
                correction=(
                    f"Recommended {advice}; customer declined for now."
                    if declined
                    else f"Recommend {advice} as soon as possible."
                ),
                later=f"dtc:{code.code}:{cause_index}",
            ),
        ]
    return [
        Draft(
            category=category,
            status="completed",
            complaint=complaint,
            cause=diagnosis,
            correction=f"{action}. {ending}",
            ops=[_hours(visit, diag_op), *repair_ops],
            parts=_parts(visit, fix.parts),
        )
    ]


def recall_line(visit: Visit, recall: Recall) -> Draft:
    visit.new_line()
    campaign = recall.campaign
    complaint = visit.rng.choice(
        (
            f"Customer received recall notice {campaign} in the mail.",
            f"Open recall {campaign} found on VIN check at write-up.",
            f"Perform open safety recall {campaign}.",
        )
    )
    uses: tuple[PartUse, ...] = ((recall.part, 1),) if recall.part else ()
    parts = _parts(visit, uses, warranty=True)
    for part in parts:
        part["description"] = f"{part['description'].removesuffix(' (recall)')} ({campaign})"
    return Draft(
        category="recall",
        status="completed",
        complaint=complaint,
        cause=f"NHTSA campaign {campaign}: {recall.summary}",
        correction=(
            f"Performed recall {campaign} per manufacturer procedure: {recall.remedy}."
            " Claim submitted."
        ),
        ops=[(f"RCL-{campaign}", f"Safety recall {campaign}", recall.hours)],
        parts=parts,
        pay_type="warranty",
    )


def code_by_name(name: str) -> TroubleCode:
    return next(c for c in trouble_codes() if c.code == name)
