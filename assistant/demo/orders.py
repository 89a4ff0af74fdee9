"""One repair order: what a visit gets done, who works it, and totals that add up exactly.

A visit is usually one concern plus what is due (an oil change at the interval, an open
recall), sometimes work put off last time, and in about a quarter of orders an inspection
finding the customer declines or is advised to budget for. Fees, tax and discounts follow
the shop's own policy so totals vary the way real invoices do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from assistant.demo import jobs as lines
from assistant.demo.reference import Recall, jobs, recalls
from assistant.demo.vehicles import ModelSpec

END = date(2026, 10, 31)
_LETTERS = "ABCDEFGHIJ"
_WORKED = ("completed", "in_progress")
_DTC_WEIGHT, _RECALL_WEIGHT = 16, 2
_OIL_INTERVAL = 4_000
_DEFER_WEIGHTS = {
    "brake_front": 5, "brake_rear": 4, "tires_four": 4, "tires_rear_pair": 4, "air_filter": 4,
    "cabin_filter": 4, "coolant": 3, "transmission_fluid": 3, "brake_fluid": 3, "wipers": 2,
    "battery": 2, "alignment": 2, "sway_links": 2, "struts": 2, "serpentine_belt": 2,
    "spark_plugs": 1, "control_arm": 1, "ac_condenser": 1, "headlamp": 1, "engine_mount": 1,
    "water_pump": 1,
}  # fmt: skip
_MIN_MILEAGE = {
    "brake_front": 25_000, "brake_rear": 30_000, "tires_four": 30_000, "tires_rear_pair": 25_000,
    "spark_plugs": 90_000, "transmission_fluid": 50_000, "coolant": 60_000, "struts": 60_000,
    "serpentine_belt": 50_000, "control_arm": 60_000, "water_pump": 70_000, "engine_mount": 60_000,
    "alternator": 60_000, "starter": 60_000, "wheel_bearing": 50_000, "ac_condenser": 30_000,
}  # fmt: skip
_IN_PROGRESS = (
    "Work in progress; parts ordered, ETA tomorrow.",
    "In progress. Customer approved estimate.",
    "Repair in progress, waiting on parts.",
)
_LUBE = {"maintenance", "tires", "alignment", "fluids", "lighting"}
_DRIVEABILITY = {"diagnosis", "abs", "srs", "ac", "no_start", "battery", "recall", "cooling"}


@dataclass(slots=True)
class Shop:
    key: str
    tax_rate: float
    labor_rate: float
    rng: random.Random
    advisors: list[dict[str, str]]
    technicians: list[dict[str, str]]
    oem_share: int
    tire_brand: int
    supplies_pct: float
    supplies_cap: float
    hazmat_fee: float
    tire_fee: float


@dataclass(slots=True)
class Vehicle:
    spec: ModelSpec
    year: int
    cylinders: int
    color: str
    vin: str
    plate: str
    customer: dict[str, Any]
    card: str
    annual_miles: int
    odometer: int = 0
    last_visit: date | None = None
    last_oil: int = -10_000
    pending: list[tuple[str, str, date]] = field(default_factory=list)
    recalls_done: set[str] = field(default_factory=set)


def _open_recall(vehicle: Vehicle, when: date) -> Recall | None:
    """A real campaign for this make, model and year, issued by then and not yet done."""
    key = (vehicle.spec.make.upper(), vehicle.spec.model.upper())
    for recall in recalls().get(key, ()):
        issued = 2000 + int(recall.campaign[:2])
        done = recall.campaign in vehicle.recalls_done
        if vehicle.year in recall.years and issued <= when.year and not done:
            return recall
    return None


def _primary(rng: random.Random, visit: lines.Visit, recall: Recall | None) -> str:
    keys, weights = [], []
    summer, winter = visit.when.month in (5, 6, 7, 8, 9), visit.when.month in (11, 12, 1, 2)
    for job in jobs().values():
        if visit.mileage < _MIN_MILEAGE.get(job.key, 0):
            continue
        weight = job.weight * (3.0 if job.summer and summer else 1.0)
        weight *= 2.5 if job.winter and winter else 1.0
        if weight:
            keys.append(job.key)
            weights.append(weight)
    keys += ["dtc", "recall"]
    weights += [_DTC_WEIGHT, _RECALL_WEIGHT if recall else 0]
    return rng.choices(keys, weights=weights)[0]


def _deferral(rng: random.Random, vehicle: Vehicle, mileage: int, used: set[str]) -> str | None:
    waiting = {key for key, _, _ in vehicle.pending}
    options = [
        k
        for k in _DEFER_WEIGHTS
        if k not in used and k not in waiting and mileage >= _MIN_MILEAGE.get(k, 0)
    ]
    if not options:
        return None
    return rng.choices(options, weights=[_DEFER_WEIGHTS[k] for k in options])[0]


def _drafts(shop: Shop, vehicle: Vehicle, visit: lines.Visit) -> list[lines.Draft]:
    rng, when = shop.rng, visit.when
    recall = _open_recall(vehicle, when)
    vehicle.pending = [p for p in vehicle.pending if (when - p[2]).days < 900]
    drafts: list[lines.Draft] = []
    used: set[str] = set()
    if vehicle.pending and rng.random() < 0.5:
        item = rng.choice(vehicle.pending)
        vehicle.pending.remove(item)
        later, ro_number, _ = item
        if later.startswith("dtc:"):
            _, code, index = later.split(":")
            drafts += lines.dtc_lines(
                visit, lines.code_by_name(code), cause_index=int(index), returning_ro=ro_number
            )
        else:
            drafts.append(lines.job_line(visit, later, returning_ro=ro_number))
            used.add(later)
    else:
        choice = _primary(rng, visit, recall)
        if choice == "dtc":
            drafts += lines.dtc_lines(visit, lines.pick_code(visit))
        elif choice == "recall" and recall is not None:
            drafts.append(lines.recall_line(visit, recall))
            vehicle.recalls_done.add(recall.campaign)
            recall = None
        else:
            drafts.append(lines.job_line(visit, choice))
            used.add(choice)
    extras: list[lines.Draft] = []
    due = visit.mileage - vehicle.last_oil >= _OIL_INTERVAL
    if "oil_synthetic" not in used and due and rng.random() < 0.6:
        extras.append(lines.job_line(visit, "oil_synthetic"))
        used.add("oil_synthetic")
    if "oil_synthetic" in used and rng.random() < 0.3:
        extras.append(lines.job_line(visit, "tire_rotation"))
        used.add("tire_rotation")
    if recall is not None and rng.random() < 0.15:
        extras.append(lines.recall_line(visit, recall))
        vehicle.recalls_done.add(recall.campaign)
    deferred = [d for d in drafts if d.later]
    drafts = [d for d in drafts if not d.later]
    if rng.random() < 0.24:
        key = _deferral(rng, vehicle, visit.mileage, used)
        if key is not None:
            deferred.append(lines.deferred_line(visit, key))
    room = 4 - len(drafts) - len(deferred)
    return drafts + extras[: max(0, room)] + deferred[: 4 - len(drafts)]


def _technician(shop: Shop, category: str) -> dict[str, str]:
    weights = [2.5] * len(shop.technicians)
    weights[0] = 6.0 if category in _LUBE else 0.3
    weights[1] = 6.0 if category in _DRIVEABILITY else 1.5
    return dict(shop.rng.choices(shop.technicians, weights=weights)[0])


def _line(shop: Shop, letter: str, draft: lines.Draft) -> dict[str, Any]:
    technician = _technician(shop, draft.category)
    warranty = draft.pay_type == "warranty"
    labor = [
        {
            "op_code": code,
            "description": description,
            "technician": dict(technician),
            "hours": hours,
            "amount": 0.0 if warranty else round(hours * shop.labor_rate, 2),
            "pay_type": draft.pay_type,
        }
        for code, description, hours in draft.ops
    ]
    return {
        "line": letter,
        "status": draft.status,
        "complaint": draft.complaint,
        "cause": draft.cause,
        "correction": draft.correction,
        "labor": labor if draft.status in _WORKED else [],
        "parts": draft.parts if draft.status in _WORKED else [],
    }


def _phone_variant(rng: random.Random, phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice((phone, f"{a}-{b}-{c}", f"{a}.{b}.{c}", digits, f"{a} {b} {c}"))


def _pii_note(
    rng: random.Random, customer: dict[str, Any], vin: str, plate: str
) -> tuple[str, str]:
    """A note with this order's own customer data, typed the way people type it."""
    full = customer["name"]
    first, last = full.split(" ", 1)
    name = rng.choice((full, full, full.upper(), full.lower(), f"{last}, {first}"))
    phone = _phone_variant(rng, rng.choice(customer["phones"]))
    email = customer["email"] if rng.random() < 0.8 else customer["email"].upper()
    field, template = rng.choice(
        (
            ("correction", "Called {name} at {phone} for approval."),
            ("correction", "Left voicemail for {name} at {phone}, approved by text."),
            ("correction", "Spoke with {name} at {phone}; approved."),
            ("cause", "Customer {name} ({phone}) waiting in lobby."),
            ("complaint", "{name} says it started after the last fill-up, call {phone}."),
            ("correction", "Emailed estimate to {email} for approval."),
            ("correction", "Customer email {email} for invoice."),
            ("cause", "VIN {vin} verified at write-up."),
            ("cause", "Plate {plate} on vehicle, key tag matches."),
        )
    )
    return field, template.format(name=name, phone=phone, email=email, vin=vin, plate=plate)


def _totals(
    shop: Shop, order_lines: list[dict[str, Any]], drafts: list[lines.Draft], sublet: float
) -> dict[str, float]:
    rng = shop.rng
    worked = [(line, d) for line, d in zip(order_lines, drafts, strict=True) if d.status in _WORKED]
    labor = round(sum((op["amount"] for line, _ in worked for op in line["labor"]), 0.0), 2)
    parts = round(
        sum(
            (
                round(p["quantity"] * p["unit_price"], 2)
                for line, _ in worked
                for p in line["parts"]
            ),
            0.0,
        ),
        2,
    )
    supplies = round(min(labor * shop.supplies_pct, shop.supplies_cap), 2) if labor else 0.0
    fluids = sum(1 for _, d in worked if d.fluids)
    tires = sum(d.tires for _, d in worked)
    hazardous = round(fluids * shop.hazmat_fee + tires * shop.tire_fee, 2)
    discount = 0.0
    if labor and rng.random() < 0.07:
        discount = min(labor, rng.choice((round(min(labor * 0.1, 50.0), 2), 15.0, 20.0, 25.0)))
    tax = round(shop.tax_rate * (parts + supplies), 2)
    total = round(labor + parts + sublet + supplies + hazardous + tax - discount, 2)
    return {
        "labor": labor,
        "parts": parts,
        "sublet": sublet,
        "shop_supplies": supplies,
        "hazardous": hazardous,
        "tax": tax,
        "discount": discount,
        "total_due": total,
    }


def _payment(rng: random.Random, vehicle: Vehicle, total: float) -> str:
    if total == 0:
        return "No charge - warranty"
    roll = rng.random()
    if roll < 0.8:
        return vehicle.card
    return "Cash" if roll < 0.92 else f"Check #{rng.randint(1001, 9999)}"


def repair_order(
    shop: Shop, vehicle: Vehicle, when: date, ro_number: str, is_open: bool
) -> dict[str, Any]:
    rng = shop.rng
    if vehicle.last_visit is None:
        age = max(30, (when - date(vehicle.year - 1, 9, 1)).days)
        mileage_in = max(12, int(age / 365 * vehicle.annual_miles * rng.uniform(0.8, 1.2)))
    else:
        gap = (when - vehicle.last_visit).days
        mileage_in = (
            vehicle.odometer + 20 + int(gap / 365 * vehicle.annual_miles * rng.uniform(0.6, 1.4))
        )
    visit = lines.Visit(
        rng, vehicle.spec, vehicle.year, vehicle.cylinders, when, mileage_in,
        shop.key, shop.oem_share, shop.tire_brand,
    )  # fmt: skip
    drafts = _drafts(shop, vehicle, visit)
    sublet = 0.0
    first = drafts[0]
    if first.category == "no_start" and "crank" in first.complaint and rng.random() < 0.35:
        first.complaint = f"Vehicle towed in. {first.complaint}"
        sublet = round(rng.uniform(85.0, 145.0), 2)
    if is_open:
        first.status = "in_progress"
        first.correction = rng.choice(_IN_PROGRESS)
    order_lines = [_line(shop, _LETTERS[i], d) for i, d in enumerate(drafts)]
    for draft in drafts:
        if draft.later:
            vehicle.pending.append((draft.later, ro_number, when))
    if any(op[0].startswith("LOF") for d in drafts if d.status in _WORKED for op in d.ops):
        vehicle.last_oil = mileage_in
    road_test = any(d.category not in ("maintenance", "tires") for d in drafts)
    mileage_out = mileage_in if is_open else mileage_in + rng.randint(3, 18) * road_test
    vehicle.odometer, vehicle.last_visit = mileage_out, when
    if rng.random() < 0.1:
        target = rng.choice(order_lines)
        field, note = _pii_note(rng, vehicle.customer, vehicle.vin, vehicle.plate)
        target[field] = f"{target[field]} {note}"
    totals = _totals(shop, order_lines, drafts, sublet)
    hours = sum(op[2] for d in drafts for op in d.ops)
    delay = rng.choices((0, 1, 2, 3), weights=(55, 28, 10, 7))[0] + (1 if hours > 5 else 0)
    closed = min(END, when + timedelta(days=delay))
    customer = vehicle.customer
    return {
        "ro_number": ro_number,
        "status": "open" if is_open else "closed",
        "opened_on": when.isoformat(),
        "closed_on": None if is_open else closed.isoformat(),
        "advisor": dict(rng.choice(shop.advisors)),
        "vehicle": {
            "year": vehicle.year,
            "make": vehicle.spec.make,
            "model": vehicle.spec.model,
            "color": vehicle.color,
            "mileage_in": mileage_in,
            "mileage_out": mileage_out,
        },
        "customer": {
            "name": customer["name"],
            "email": customer["email"],
            "phones": list(customer["phones"]),
            "address": dict(customer["address"]),
            "payment_method": _payment(rng, vehicle, totals["total_due"]),
            "vin": vehicle.vin,
            "license_plate": vehicle.plate,
        },
        "lines": order_lines,
        "totals": totals,
    }
