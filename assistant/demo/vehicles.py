"""Vehicles a US shop actually sees, with identifiers that pass the checks real tools run.

VINs carry a plausible manufacturer prefix (WMI) for the make, the model-year code at
position 10 and a valid North-American check digit at position 9, so the PII scrubber's
check-digit detector is exercised on realistic input rather than on random strings.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    make: str
    model: str
    first_year: int
    last_year: int
    body: str
    cylinders: tuple[int, ...]
    tire_size: str
    wmis: tuple[str, ...]
    weight: int


def _m(
    make: str,
    model: str,
    years: tuple[int, int],
    body: str,
    cylinders: tuple[int, ...],
    tire: str,
    wmis: tuple[str, ...],
    weight: int,
) -> ModelSpec:
    return ModelSpec(make, model, years[0], years[1], body, cylinders, tire, wmis, weight)


MODELS: tuple[ModelSpec, ...] = (
    _m("Toyota", "Camry", (2008, 2025), "car", (4, 4, 6), "215/55R17", ("4T1", "4T4", "JTN"), 10),
    _m("Toyota", "Corolla", (2008, 2025), "car", (4,), "205/55R16", ("2T1", "5YF", "JTD"), 9),
    _m("Toyota", "RAV4", (2008, 2025), "suv", (4,), "225/65R17", ("2T3", "JTM"), 9),
    _m("Toyota", "Tacoma", (2008, 2024), "truck", (4, 6, 6), "245/75R16", ("5TF", "3TM"), 6),
    _m("Toyota", "Highlander", (2008, 2025), "suv", (6,), "245/60R18", ("5TD",), 5),
    _m("Toyota", "Tundra", (2008, 2024), "truck", (8,), "275/65R18", ("5TF",), 3),
    _m("Honda", "Civic", (2008, 2025), "car", (4,), "215/55R16", ("2HG", "19X", "SHH"), 9),
    _m("Honda", "Accord", (2008, 2025), "car", (4, 4, 6), "225/50R17", ("1HG",), 8),
    _m("Honda", "CR-V", (2008, 2025), "suv", (4,), "235/60R18", ("5J6", "2HK", "7FA"), 8),
    _m("Honda", "Pilot", (2009, 2025), "suv", (6,), "245/60R18", ("5FN",), 4),
    _m("Honda", "Odyssey", (2008, 2025), "van", (6,), "235/60R18", ("5FN",), 3),
    _m("Ford", "F-150", (2008, 2025), "truck", (6, 8), "275/65R18", ("1FT",), 9),
    _m("Ford", "Escape", (2008, 2025), "suv", (4,), "225/65R17", ("1FM",), 6),
    _m("Ford", "Explorer", (2008, 2025), "suv", (6, 4), "245/60R18", ("1FM",), 5),
    _m("Ford", "Fusion", (2010, 2020), "car", (4,), "235/50R17", ("3FA",), 5),
    _m("Ford", "Focus", (2008, 2018), "car", (4,), "215/55R16", ("1FA",), 4),
    _m(
        "Chevrolet", "Silverado 1500", (2008, 2025), "truck", (8, 6), "265/70R17", ("1GC", "3GC"), 9
    ),
    _m("Chevrolet", "Malibu", (2008, 2025), "car", (4,), "225/55R17", ("1G1",), 5),
    _m("Chevrolet", "Equinox", (2008, 2025), "suv", (4,), "225/65R17", ("2GN", "3GN"), 7),
    _m("Chevrolet", "Tahoe", (2008, 2025), "suv", (8,), "265/65R18", ("1GN",), 3),
    _m("Chevrolet", "Cruze", (2011, 2019), "car", (4,), "215/60R16", ("1G1",), 4),
    _m("Chevrolet", "Traverse", (2009, 2025), "suv", (6,), "255/65R18", ("1GN",), 3),
    _m("GMC", "Sierra 1500", (2008, 2025), "truck", (8,), "265/70R17", ("1GT", "3GT"), 4),
    _m("GMC", "Acadia", (2008, 2025), "suv", (6,), "255/65R18", ("1GK",), 3),
    _m("GMC", "Terrain", (2010, 2025), "suv", (4,), "225/65R17", ("2GK", "3GK"), 3),
    _m("Nissan", "Altima", (2008, 2025), "car", (4,), "215/55R17", ("1N4",), 7),
    _m("Nissan", "Rogue", (2008, 2025), "suv", (4,), "225/65R17", ("5N1", "JN8"), 7),
    _m("Nissan", "Sentra", (2008, 2025), "car", (4,), "205/55R16", ("3N1",), 6),
    _m("Nissan", "Frontier", (2008, 2025), "truck", (4, 6), "265/70R16", ("1N6",), 3),
    _m("Nissan", "Pathfinder", (2008, 2025), "suv", (6,), "235/65R18", ("5N1",), 3),
    _m("Hyundai", "Elantra", (2008, 2025), "car", (4,), "205/55R16", ("5NP", "KMH"), 6),
    _m("Hyundai", "Sonata", (2008, 2025), "car", (4,), "215/55R17", ("5NP",), 5),
    _m("Hyundai", "Tucson", (2008, 2025), "suv", (4,), "225/60R17", ("KM8",), 5),
    _m("Hyundai", "Santa Fe", (2008, 2025), "suv", (4, 6), "235/65R17", ("5XY", "5NM"), 4),
    _m("Kia", "Sorento", (2008, 2025), "suv", (4, 6), "235/65R17", ("5XY",), 5),
    _m("Kia", "Optima", (2011, 2020), "car", (4,), "215/55R17", ("5XX", "KNA"), 4),
    _m("Kia", "Soul", (2010, 2025), "car", (4,), "205/60R16", ("KND",), 4),
    _m("Kia", "Sportage", (2008, 2025), "suv", (4,), "225/60R17", ("KND", "KNA"), 4),
    _m("Kia", "Forte", (2010, 2025), "car", (4,), "205/55R16", ("KNA", "3KP"), 4),
    _m("Subaru", "Outback", (2008, 2025), "suv", (4,), "225/65R17", ("4S4",), 6),
    _m("Subaru", "Forester", (2008, 2025), "suv", (4,), "225/60R17", ("JF2",), 6),
    _m("Subaru", "Crosstrek", (2013, 2025), "suv", (4,), "225/60R17", ("JF2",), 4),
    _m("Subaru", "Impreza", (2008, 2025), "car", (4,), "205/55R16", ("JF1", "4S3"), 4),
    _m("Subaru", "Legacy", (2008, 2025), "car", (4,), "225/55R17", ("4S3",), 3),
    _m("Jeep", "Grand Cherokee", (2008, 2025), "suv", (6, 8), "265/60R18", ("1C4",), 6),
    _m("Jeep", "Wrangler", (2008, 2025), "suv", (6,), "245/75R17", ("1C4",), 5),
    _m("Jeep", "Cherokee", (2014, 2023), "suv", (4, 6), "225/60R17", ("1C4",), 4),
    _m("Jeep", "Compass", (2008, 2025), "suv", (4,), "215/60R17", ("3C4", "1C4"), 3),
    _m("Ram", "1500", (2011, 2025), "truck", (6, 8), "275/65R18", ("1C6", "3C6"), 7),
    _m("Mazda", "CX-5", (2013, 2025), "suv", (4,), "225/65R17", ("JM3",), 5),
    _m("Mazda", "Mazda3", (2008, 2025), "car", (4,), "205/60R16", ("JM1", "3MZ"), 4),
    _m("Volkswagen", "Jetta", (2008, 2025), "car", (4,), "205/55R16", ("3VW",), 4),
    _m("Volkswagen", "Tiguan", (2009, 2025), "suv", (4,), "235/55R18", ("WVG", "3VV"), 3),
)
_MODEL_WEIGHTS = tuple(spec.weight for spec in MODELS)

COLORS = (
    "White", "Black", "Gray", "Silver", "Blue", "Red", "Pearl White",
    "Dark Gray", "Green", "Brown", "Beige", "Maroon", "Gold", "Orange",
)  # fmt: skip
_COLOR_WEIGHTS = (18, 16, 15, 12, 9, 9, 5, 5, 2, 2, 2, 2, 1, 1)

_PLATE_PATTERNS: dict[str, tuple[str, ...]] = {
    "AZ": ("@@@####",),
    "CA": ("#@@@###",),
    "TX": ("@@@####",),
    "WI": ("@@@####", "###-@@@"),
    "CO": ("@@@-@##", "###-@@@"),
    "WA": ("@@@####",),
    "OH": ("@@@####",),
    "NC": ("@@@-####",),
    "FL": ("@@@@##", "###-@@@"),
    "ID": ("#@ #####",),
    "MI": ("@@@####",),
    "NV": ("###@##",),
    "OR": ("###@@@",),
    "GA": ("@@@####",),
    "TN": ("@##-##@",),
}
_DEFAULT_PLATES = ("@@@####", "@@@###", "#@@@###")


def vin_check_digit(vin: str) -> str:
    """The position-9 character that makes `vin` valid (its own position 9 is ignored)."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin.upper(), _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def year_code(model_year: int) -> str:
    return _YEAR_CODES[(model_year - 1980) % 30]


def _pick(seed: str, alphabet: str) -> str:
    return alphabet[zlib.crc32(seed.encode()) % len(alphabet)]


def make_vin(rng: random.Random, spec: ModelSpec, model_year: int, cylinders: int) -> str:
    """A VIN stable in its model-level characters and random in the serial, like a real fleet."""
    key = f"{spec.make}|{spec.model}"
    vds = "".join(_pick(f"{key}|{i}", VIN_ALPHABET) for i in range(3))
    vds += _pick(f"{key}|trim{rng.randrange(3)}", VIN_ALPHABET)
    vds += _pick(f"{key}|engine{cylinders}", VIN_ALPHABET)
    plant = _pick(f"{key}|plant{rng.randrange(2)}", "ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
    serial = f"{rng.randrange(1_000_000):06d}"
    body = f"{rng.choice(spec.wmis)}{vds}0{year_code(model_year)}{plant}{serial}"
    return body[:8] + vin_check_digit(body) + body[9:]


def make_plate(rng: random.Random, state: str) -> str:
    pattern = rng.choice(_PLATE_PATTERNS.get(state, _DEFAULT_PLATES))
    plate = "".join(
        rng.choice(_PLATE_LETTERS) if c == "@" else str(rng.randrange(10)) if c == "#" else c
        for c in pattern
    )
    return f"{state} {plate}" if rng.random() < 0.35 else plate


def pick_model(rng: random.Random, first_visit_year: int) -> tuple[ModelSpec, int]:
    """A model and a model year that existed when the vehicle first came in, skewed recent."""
    while True:
        spec = rng.choices(MODELS, weights=_MODEL_WEIGHTS)[0]
        low = max(spec.first_year, first_visit_year - 14)
        high = min(spec.last_year, first_visit_year + 1)
        if low <= high:
            return spec, max(low, high - int(abs(rng.gauss(0, 5))))


def pick_color(rng: random.Random) -> str:
    return rng.choices(COLORS, weights=_COLOR_WEIGHTS)[0]
