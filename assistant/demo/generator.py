"""Deterministic demo repair orders for one shop, in the canonical record shape.

A shop's history is built the way it accumulates in real life: a fleet of returning
vehicles, each owned by one customer, visiting over several years with rising mileage;
work put off on one visit comes back on a later one; a few technicians write the stories
and a few advisors open the orders. About one order in ten has the customer's own name,
phone, email, plate or VIN typed into a story, as happens at real counters, so ingestion
has real PII to scrub.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from faker import Faker

from assistant.demo import catalog
from assistant.demo.orders import Shop, Vehicle, repair_order
from assistant.demo.vehicles import make_plate, make_vin, pick_color, pick_model

START, END = date(2019, 1, 2), date(2026, 10, 31)
_SPAN = (END - START).days
_MAX_VISITS = 18


@dataclass(frozen=True)
class ShopProfile:
    slug: str
    name: str
    tax_rate: float
    labor_rate: float


@dataclass(frozen=True, slots=True)
class _Locale:
    state: str
    zip3: str
    area_codes: tuple[str, ...]
    tax_rate: float
    labor_rate: float
    cities: tuple[str, ...]


_LOCALES = (
    _Locale("AZ", "857", ("520",), 0.087, 145, ("Tucson", "Oro Valley", "Marana", "Sahuarita")),
    _Locale("WI", "537", ("608",), 0.055, 132, ("Madison", "Middleton", "Fitchburg", "Verona")),
    _Locale("ID", "837", ("208",), 0.06, 125, ("Boise", "Meridian", "Eagle", "Nampa")),
    _Locale("TX", "787", ("512", "737"), 0.0825, 150, ("Austin", "Round Rock", "Pflugerville")),
    _Locale("OH", "432", ("614", "380"), 0.08, 130, ("Columbus", "Dublin", "Westerville")),
    _Locale("CO", "802", ("303", "720"), 0.0881, 155, ("Denver", "Aurora", "Lakewood", "Arvada")),
    _Locale("CA", "958", ("916", "279"), 0.0875, 165, ("Sacramento", "Elk Grove", "Roseville")),
    _Locale("WA", "992", ("509",), 0.09, 135, ("Spokane", "Spokane Valley", "Liberty Lake")),
    _Locale("TN", "379", ("865",), 0.0925, 120, ("Knoxville", "Maryville", "Farragut")),
    _Locale("NC", "276", ("919", "984"), 0.0725, 135, ("Raleigh", "Cary", "Garner", "Apex")),
    _Locale("FL", "336", ("813", "656"), 0.075, 135, ("Tampa", "Brandon", "Riverview")),
    _Locale("MI", "495", ("616",), 0.06, 125, ("Grand Rapids", "Wyoming", "Kentwood")),
    _Locale("NV", "895", ("775",), 0.0826, 140, ("Reno", "Sparks", "Carson City")),
    _Locale("OR", "972", ("503", "971"), 0.0, 150, ("Portland", "Beaverton", "Gresham")),
    _Locale("GA", "303", ("404", "678"), 0.089, 145, ("Atlanta", "Decatur", "Marietta")),
)
_HAND_PICKED = (
    (ShopProfile("desert-auto", "Desert Auto Care", 0.087, 145.0), _LOCALES[0]),
    (ShopProfile("lakeside-motors", "Lakeside Motor Works", 0.055, 132.0), _LOCALES[1]),
)
_PLACES = (
    "Ridgeline", "Copper Canyon", "Summit", "Cedar", "Pioneer", "Northgate", "Riverside",
    "Canyon", "Maple", "Liberty", "Keystone", "Main Street", "Eastside", "Westside",
    "Highland", "Prairie", "Bayview", "Granite", "Ironwood", "Redwood", "Sunrise", "Evergreen",
    "Hillcrest", "Lakeview", "Mesa", "Oak Park", "Parkway", "Precision", "Quality", "Reliable",
    "Silver Creek", "Stonebridge", "Tri-County", "Valley", "Village", "Willow", "Frontier",
    "Heritage", "Crossroads", "Midtown",
)  # fmt: skip
_SUFFIXES = (
    "Auto Care", "Automotive", "Auto Repair", "Auto Service", "Motor Works", "Garage",
    "Tire & Auto", "Car Care", "Service Center", "Auto Clinic",
)  # fmt: skip
_STREETS = (
    "Elm", "Oak", "Maple", "Cedar", "Pine", "Mesquite", "Willow", "Lincoln", "Washington",
    "Park", "Lake", "Hill", "Sunset", "Ridge", "Meadow", "Church", "Mill", "Spring",
)  # fmt: skip
_STREET_TYPES = ("St", "Ave", "Dr", "Rd", "Ln", "Way", "Blvd", "Ct", "Pl")
_CARDS = (("VISA", 50), ("Mastercard", 25), ("AMEX", 12), ("Discover", 8), ("Debit", 5))


@functools.cache
def _combos(seed: int) -> tuple[str, ...]:
    names = [f"{place} {suffix}" for place in _PLACES for suffix in _SUFFIXES]
    random.Random(f"shop-names:{seed}").shuffle(names)  # noqa: S311 - demo data, not secrets
    return tuple(names)


@functools.cache
def _shop(shop_index: int, seed: int) -> tuple[ShopProfile, _Locale]:
    if shop_index < 0:
        raise ValueError("shop_index must be >= 0")
    if shop_index < len(_HAND_PICKED):
        return _HAND_PICKED[shop_index]
    rng = random.Random(f"shop:{seed}:{shop_index}")  # noqa: S311
    names = _combos(seed)
    n = shop_index - len(_HAND_PICKED)
    name = names[n % len(names)] + (f" {n // len(names) + 1}" if n >= len(names) else "")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower().replace("&", "")).strip("-")
    locale = rng.choice(_LOCALES)
    rate = round(locale.labor_rate * rng.uniform(0.85, 1.2) / 5) * 5.0
    return ShopProfile(slug, name, locale.tax_rate, rate), locale


def shop_profile(shop_index: int, *, seed: int = 20240601) -> ShopProfile:
    """Deterministic profile; 0 and 1 are hand-picked, others are generated with unique slugs."""
    return _shop(shop_index, seed)[0]


def _staff(rng: random.Random, fake: Faker) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    tags = rng.sample(range(100, 200), 3)
    codes = rng.sample(range(200, 1000), 6)
    advisors = [
        {"name": f"{fake.first_name()} {fake.last_name()}", "tag": f"T{tags[i]}"}
        for i in range(rng.randint(2, 3))
    ]
    technicians = [
        {"name": f"{fake.first_name()} {fake.last_name()}", "code": str(codes[i])}
        for i in range(rng.randint(4, 6))
    ]
    return advisors, technicians


def _phone(rng: random.Random, area_codes: tuple[str, ...]) -> str:
    exchange = rng.choice([n for n in range(201, 1000) if n % 100 != 11 and n != 555])
    return f"({rng.choice(area_codes)}) {exchange}-{rng.randrange(10_000):04d}"


def _customer(rng: random.Random, fake: Faker, locale: _Locale) -> tuple[dict[str, Any], str]:
    first, last = fake.first_name(), fake.last_name()
    handle = rng.choice(
        (
            f"{first[0]}{last}",
            f"{first}.{last}",
            f"{first}{last[0]}{rng.randint(1, 99)}",
            f"{last}{first[0]}",
        )
    )
    email = re.sub(r"[^a-z0-9.]", "", handle.lower()) + rng.choice(
        ("@example.com", "@example.net", "@example.org")
    )
    phones = [_phone(rng, locale.area_codes) for _ in range(rng.choice((1, 1, 1, 2)))]
    street_name = rng.choice(_STREETS) if rng.random() < 0.5 else fake.last_name()
    address = {
        "street": f"{rng.randint(10, 9999)} {street_name} {rng.choice(_STREET_TYPES)}",
        "city": rng.choice(locale.cities),
        "state": locale.state,
        "zip": f"{locale.zip3}{rng.randint(1, 60):02d}",
    }
    brand = rng.choices([c for c, _ in _CARDS], weights=[w for _, w in _CARDS])[0]
    card = f"{brand} ending {rng.randrange(10_000):04d}"
    return {"name": f"{first} {last}", "email": email, "phones": phones, "address": address}, card


def _schedule(rng: random.Random, ro_count: int) -> list[list[date]]:
    """Visit dates per vehicle: about three visits each, spread over an ownership window."""
    fleet = max(1, round(ro_count / 3))
    counts = [1] * fleet
    weights = [rng.paretovariate(1.5) for _ in range(fleet)]
    for index in rng.choices(range(fleet), weights=weights, k=ro_count - fleet):
        while counts[index] >= _MAX_VISITS:
            index = (index + 1) % fleet
        counts[index] += 1
    visits = []
    for count in counts:
        length = rng.randint(min(_SPAN, max(365, count * 120)), _SPAN)
        start = rng.randint(-length // 2, _SPAN - length // 2)
        end = min(_SPAN, start + length)
        start = max(0, min(start, end - count * 10 - 10))
        length = end - start
        bins = sorted(rng.sample(range(length // 10), count))
        days = [START + timedelta(days=start + b * 10 + rng.randint(0, 3)) for b in bins]
        visits.append([d + timedelta(days=1) if d.weekday() == 6 else d for d in days])
    return visits


def generate_shop_records(
    shop_index: int, ro_count: int, *, seed: int = 20240601
) -> list[dict[str, Any]]:
    """Deterministic: same arguments -> identical output; each shop has its own people and cars."""
    if ro_count <= 0:
        return []
    profile, locale = _shop(shop_index, seed)
    rng = random.Random(f"ro-assistant-demo:{seed}:{shop_index}")  # noqa: S311
    fake = Faker("en_US")
    fake.seed_instance(rng.getrandbits(64))
    advisors, technicians = _staff(rng, fake)
    shop = Shop(
        key=profile.slug,
        tax_rate=profile.tax_rate,
        labor_rate=profile.labor_rate,
        rng=rng,
        advisors=advisors,
        technicians=technicians,
        oem_share=rng.randint(25, 75),
        tire_brand=rng.randrange(catalog.TIRE_BRANDS),
        supplies_pct=rng.choice((0.05, 0.06, 0.08, 0.1)),
        supplies_cap=rng.choice((29.95, 35.0, 45.0, 49.95)),
        hazmat_fee=rng.choice((2.5, 3.0, 3.95, 4.95)),
        tire_fee=rng.choice((2.5, 3.0, 3.5, 4.5)),
    )
    schedule = _schedule(rng, ro_count)
    fleet = []
    for dates in schedule:
        spec, year = pick_model(rng, dates[0].year)
        cylinders = rng.choice(spec.cylinders)
        customer, card = _customer(rng, fake, locale)
        vin = make_vin(rng, spec, year, cylinders)
        plate = make_plate(rng, locale.state)
        miles = int(rng.lognormvariate(9.45, 0.35))
        color = pick_color(rng)
        fleet.append(Vehicle(spec, year, cylinders, color, vin, plate, customer, card, miles))
    order = sorted((d, rng.random(), v) for v, dates in enumerate(schedule) for d in dates)
    block = (shop_index * 37 + seed) % 89
    number = min(
        10_000 + block * 10_000 + rng.randrange(3_000), max(10_000, 999_999 - 2 * ro_count)
    )
    open_count = 0 if ro_count < 20 else min(12, max(1, ro_count // 150))
    records = []
    for position, (when, _, v) in enumerate(order):
        number += rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        is_open = position >= len(order) - open_count
        records.append(repair_order(shop, fleet[v], when, str(number), is_open))
    return records
