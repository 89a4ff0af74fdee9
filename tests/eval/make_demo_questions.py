"""Build the retrieval evaluation set over the demo shop: ``tests/eval/demo_questions.jsonl``.

The questions are about shop 0 ("desert-auto", 400 repair orders, default seed), exactly what
``ro-assistant demo load`` loads for that shop. Each output line is one question typed the way
technicians and service advisors type them, with the repair orders (and optionally the lines)
a good search must surface::

    {"question": "ro# 440233 parts used?", "expected_ro_numbers": ["440233"],
     "category": "ro_number"}
    {"question": "p0456 on the explorer", "expected_ro_numbers": ["440214"],
     "expected_lines": ["440214:A"], "category": "trouble_code"}

Every expected answer is derived here by scanning the generated records, never written by hand;
the question text only names identifiers picked from those records (RO, VIN, plate, part, code,
technician, vehicle). Each question is then checked again, independently where possible (a
part number's ROs are re-found by text, a vehicle description must match exactly one vehicle,
``no_answer`` terms must be absent from everything searchable), and the script fails loudly on
the first problem. It does not use the retrieval engine in any way.

Deterministic (fixed seeds, generated data only). Run from the repository root::

    .venv/bin/python tests/eval/make_demo_questions.py
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from assistant.demo.generator import generate_shop_records

SHOP_INDEX: Final = 0
RO_COUNT: Final = 400
SEED: Final = "ro-assistant-eval-v1"
OUT_PATH: Final = Path(__file__).with_name("demo_questions.jsonl")

CATEGORIES: Final = (
    "ro_number",
    "vin",
    "plate",
    "vehicle_history",
    "symptom_fix",
    "trouble_code",
    "part_number",
    "last_time",
    "declined_work",
    "technician",
    "op_code",
    "no_answer",
)
PER_CATEGORY: Final = 15
NO_ANSWER_COUNT: Final = 14
MIN_PER_CATEGORY: Final = 10
MIN_NO_ANSWER: Final = 12
MIN_TOTAL: Final = 170
MAX_EXPECTED: Final = 5

WORKED: Final = ("completed", "in_progress")
DEFERRED: Final = ("declined", "recommended")

Record = dict[str, Any]
Line = dict[str, Any]
Hit = tuple[Record, Line]
LineTest = Callable[[Line], bool]


class EvalSetError(Exception):
    """A question whose expected answer does not hold in the data."""


def fail(message: str) -> None:
    raise EvalSetError(message)


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")  # noqa: S311 - evaluation data, not secrets


# --------------------------------------------------------------------------------------------
# The shop's data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vehicle:
    vin: str
    plate: str
    year: int
    make: str
    model: str
    color: str
    ros: tuple[Record, ...]

    @property
    def numbers(self) -> set[str]:
        return {r["ro_number"] for r in self.ros}


def norm(text: str) -> str:
    """Upper-case letters and digits only: how a VIN, plate or part number is compared."""
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def line_text(line: Line) -> str:
    """Everything searchable on one line (customer data is not)."""
    parts = [line["line"], line["status"], line["complaint"], line["cause"], line["correction"]]
    for op in line["labor"]:
        parts += [op["op_code"], op["description"], op["technician"]["name"]]
        parts += [op["technician"]["code"], str(op["hours"]), f"{op['amount']:.2f}"]
    for part in line["parts"]:
        parts += [part["part_number"], part["description"], f"{part['unit_price']:.2f}"]
    return " ".join(str(p) for p in parts if p)


def ro_text(record: Record) -> str:
    """Everything searchable on one RO: header, vehicle, advisor, totals and lines."""
    vehicle = record["vehicle"]
    header = [
        record["ro_number"],
        record["status"],
        record["opened_on"],
        record["closed_on"] or "",
        record["advisor"]["name"],
        record["advisor"]["tag"],
        str(vehicle["year"]),
        vehicle["make"],
        vehicle["model"],
        vehicle["color"],
        str(vehicle["mileage_in"]),
        str(vehicle["mileage_out"]),
        *(f"{value:.2f}" for value in record["totals"].values()),
    ]
    return " ".join([*header, *(line_text(line) for line in record["lines"])])


def op_codes(line: Line) -> list[str]:
    return [op["op_code"] for op in line["labor"]]


def tech_codes(line: Line) -> set[str]:
    return {op["technician"]["code"] for op in line["labor"]}


def is_return(line: Line) -> bool:
    return "recommended on RO" in line["complaint"]


class Shop:
    """The generated records with the look-ups the question builders need."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.by_number = {r["ro_number"]: r for r in records}
        if len(self.by_number) != len(records):
            fail("duplicate RO numbers in the demo data")
        grouped: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            grouped[record["customer"]["vin"]].append(record)
        self.vehicles: list[Vehicle] = []
        for vin, ros in grouped.items():
            ros.sort(key=lambda r: (r["opened_on"], r["ro_number"]))
            first = ros[0]
            v = first["vehicle"]
            plate = first["customer"]["license_plate"]
            for r in ros:
                same = (r["vehicle"]["year"], r["vehicle"]["model"], r["customer"]["license_plate"])
                if same != (v["year"], v["model"], plate):
                    fail(f"vehicle {vin} changes identity between ROs")
            self.vehicles.append(
                Vehicle(vin, plate, v["year"], v["make"], v["model"], v["color"], tuple(ros))
            )
        self.by_vin = {v.vin: v for v in self.vehicles}
        self.texts = {r["ro_number"]: ro_text(r) for r in records}
        self.technicians = {
            op["technician"]["code"]: op["technician"]["name"]
            for r in records
            for line in r["lines"]
            for op in line["labor"]
        }
        self.customer_terms = self._customer_terms()

    def _customer_terms(self) -> set[str]:
        terms: set[str] = set()
        for r in self.records:
            c = r["customer"]
            terms.add(c["name"].lower())
            terms.add(c["email"].lower())
            terms.update("".join(ch for ch in p if ch.isdigit()) for p in c["phones"])
            terms.add(c["address"]["street"].lower())
        return terms

    def vehicle_of(self, record: Record) -> Vehicle:
        return self.by_vin[record["customer"]["vin"]]

    def hits(self, keep: LineTest, among: Iterable[Record] = ()) -> list[Hit]:
        pool = list(among) or self.records
        return [(r, line) for r in pool for line in r["lines"] if keep(line)]

    def matching(
        self,
        *,
        year: int | None = None,
        make: str | None = None,
        model: str | None = None,
        color: str | None = None,
    ) -> list[Vehicle]:
        return [
            v
            for v in self.vehicles
            if (year is None or v.year == year)
            and (make is None or v.make == make)
            and (model is None or v.model == model)
            and (color is None or v.color == color)
        ]

    def search_blob(self) -> str:
        """All searchable text plus every VIN, plate and op/part code, for absence checks."""
        extra = [f"{v.vin} {v.plate}" for v in self.vehicles]
        return "\n".join([*self.texts.values(), *extra])


# --------------------------------------------------------------------------------------------
# Jobs as people name them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    ops: str  # regex over op codes of worked lines
    deferred: str | None  # regex over complaint + correction of declined/recommended lines
    names: tuple[str, ...]

    def done_on(self, line: Line) -> bool:
        return line["status"] in WORKED and any(re.search(self.ops, c) for c in op_codes(line))

    def put_off(self, line: Line, statuses: Sequence[str] = DEFERRED) -> bool:
        if self.deferred is None or line["status"] not in statuses:
            return False
        return (
            re.search(self.deferred, f"{line['complaint']} {line['correction']}", re.I) is not None
        )


TOPICS: Final = {
    t.key: t
    for t in (
        Topic("oil", r"^LOF-", None, ("oil change", "lof", "oil svc", "oil and filter")),
        Topic("rotation", r"^TIRE-ROT$", None, ("tire rotation", "rotation")),
        Topic(
            "front_brakes",
            r"^BRK-FR-PR$",
            r"front (brake )?pads",
            ("front brakes", "f/pads and rotors", "front brake job", "front breaks"),
        ),
        Topic(
            "rear_brakes",
            r"^BRK-RR-PR$",
            r"rear (brake )?pads",
            ("rear brakes", "r/pads and rotors", "rear brake job"),
        ),
        Topic(
            "brakes",
            r"^BRK-(FR|RR)-PR$",
            r"brake pads|pads and rotors",
            ("brakes", "brake work", "brake job", "pads"),
        ),
        Topic(
            "tires",
            r"^TIRE-[24]-MB$",
            r"tires at \d|replacing (all four|both rear) tires",
            ("tires", "new tires", "tire replacement"),
        ),
        Topic("ac", r"^AC-", None, ("a/c", "ac recharge", "ac work", "a/c service")),
        Topic("battery", r"^BATT-", r"battery", ("battery", "batt replacement", "battery swap")),
        Topic(
            "alignment", r"^ALIGN-", r"alignment", ("alignment", "4 wheel alignment", "alignmnet")
        ),
        Topic(
            "cabin_filter",
            r"^FILT-CABIN$",
            r"cabin air filter",
            ("cabin filter", "cabin air filter"),
        ),
        Topic(
            "air_filter", r"^FILT-AIR$", r"engine air filter", ("engine air filter", "air filter")
        ),
        Topic(
            "coolant",
            r"^COOL-FLUSH$",
            r"coolant",
            ("coolant flush", "coolant service", "coolant exchange"),
        ),
        Topic(
            "brake_fluid",
            r"^BRK-FLUSH$",
            r"brake fluid",
            ("brake fluid flush", "brake fluid exchange", "brake flush"),
        ),
        Topic("wipers", r"^WIPER$", r"wiper", ("wipers", "wiper blades")),
        Topic(
            "sway_links",
            r"^SUSP-SWAYLINK$",
            r"sway bar",
            ("sway bar links", "end links", "sway links"),
        ),
        Topic("control_arm", r"^SUSP-CA", r"control arm", ("control arm", "lower control arm")),
        Topic(
            "headlamp", r"^LAMP-HEAD$", r"low beam|headlamp", ("headlight bulbs", "headlamp bulbs")
        ),
        Topic("cel", r"^DIAG-CEL$", None, ("check engine light diag", "cel diag", "cel diagnosis")),
        Topic("recall", r"^RCL-", None, ("recall", "recall work", "recall campaign")),
        Topic("water_pump", r"^COOL-WP$", r"water pump", ("water pump",)),
        Topic(
            "trans_fluid",
            r"^TRANS-SVC$",
            r"transmission fluid",
            ("trans fluid service", "transmission fluid exchange"),
        ),
    )
}
ROUTINE: Final = frozenset({"oil", "rotation"})


def deferring(topic: Topic, statuses: Sequence[str]) -> LineTest:
    return lambda line: topic.put_off(line, statuses)


def having(statuses: Sequence[str]) -> LineTest:
    return lambda line: line["status"] in statuses


def by_tech(code: str) -> LineTest:
    return lambda line: code in tech_codes(line)


def by_tech_doing(code: str, topic: Topic) -> LineTest:
    """Lines where this technician's own labor is the topic's operation."""
    return lambda line: (
        topic.done_on(line)
        and any(
            op["technician"]["code"] == code and re.search(topic.ops, op["op_code"])
            for op in line["labor"]
        )
    )


_NICKNAMES: Final = {
    "F-150": ("f150", "f-150"),
    "Silverado 1500": ("silverado", "silverado 1500"),
    "Sierra 1500": ("sierra", "sierra 1500"),
    "Ram 1500": ("ram 1500", "ram"),
    "CX-5": ("cx5", "cx-5"),
    "Mazda3": ("mazda3", "mazda 3"),
    "CR-V": ("crv", "cr-v"),
    "RAV4": ("rav4", "rav 4"),
}


def nick(model: str, rng: random.Random) -> str:
    return rng.choice(_NICKNAMES.get(model, (model.lower(),)))


def describe(
    v: Vehicle,
    rng: random.Random,
    *,
    year: bool = True,
    color: bool = False,
    make: bool = False,
    short_year: bool = False,
) -> str:
    words = []
    if color:
        words.append(v.color.lower())
    if year:
        words.append(f"'{v.year % 100:02d}" if short_year else str(v.year))
    if make:
        words.append(v.make.lower())
    words.append(nick(v.model, rng))
    return " ".join(words)


def vin_variant(vin: str, style: int) -> str:
    spaced = f"{vin[:3]} {vin[3:9]} {vin[9:]}"
    return (vin, vin.lower(), spaced, vin, spaced.lower())[style % 5]


def plate_variant(plate: str, style: int) -> str:
    state, _, bare = plate.rpartition(" ")
    if state:
        # plates with the state in front are also typed without it
        return (plate, plate.lower(), bare, bare.lower())[style % 4]
    return (plate, plate.lower(), f"{plate[:3]} {plate[3:]}", f"{plate[:3]}-{plate[3:]}".lower())[
        style % 4
    ]


# --------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Question:
    question: str
    category: str
    ros: list[str]
    lines: list[str] | None = None
    facts: dict[str, str] = field(default_factory=dict)  # for the independent re-checks

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"question": self.question, "expected_ro_numbers": self.ros}
        if self.lines:
            out["expected_lines"] = self.lines
        out["category"] = self.category
        return out


def answer(text: str, category: str, hits: Sequence[Hit], **facts: str) -> Question:
    numbers = sorted({r["ro_number"] for r, _ in hits})
    lines = sorted({f"{r['ro_number']}:{line['line']}" for r, line in hits})
    return Question(text, category, numbers, lines, dict(facts))


def whole(text: str, category: str, records: Iterable[Record], **facts: str) -> Question:
    numbers = sorted({r["ro_number"] for r in records})
    return Question(text, category, numbers, None, dict(facts))


def fits(hits: Sequence[Hit] | Sequence[Record], low: int = 1) -> bool:
    numbers = {h[0]["ro_number"] if isinstance(h, tuple) else h["ro_number"] for h in hits}
    return low <= len(numbers) <= MAX_EXPECTED


def topics_on(shop: Shop, v: Vehicle, *, routine: bool) -> list[tuple[Topic, list[Hit]]]:
    """Topics worked on this vehicle that a question can ask about (1..5 ROs)."""
    found = []
    for topic in TOPICS.values():
        if topic.key in ROUTINE and not routine:
            continue
        if topic.key == "brakes":
            continue  # asked as front or rear
        hits = shop.hits(topic.done_on, v.ros)
        if fits(hits):
            found.append((topic, hits))
    return found


def build_ro_number(shop: Shop) -> list[Question]:
    rng = _rng("ro_number")
    whole_asks = (
        "what was done on ro {ro}",
        "ro# {ro} parts used?",
        "what did we find on RO {ro}?",
        "pull up ro {ro}",
        "{ro} - what was the complaint and the fix",
        "who worked on ro {ro}",
        "whats on repair order {ro}",
        "RO{ro} correction notes",
        "can you look up ro #{ro}, customer is asking what we did",
        "which advisor wrote up ro {ro}?",
        "total on ro {ro}?",
        "mileage in on {ro}",
    )
    line_asks = (
        "line {letter} on ro {ro} - what was the cause",
        "ro {ro} line {letter} what parts did we use",
        "what was the story on ro {ro} line {letter}?",
    )
    pool = list(shop.records)
    rng.shuffle(pool)
    multi = [r for r in pool if len(r["lines"]) >= 2]
    questions: list[Question] = []
    used: set[str] = set()
    for ask in whole_asks:
        record = next(r for r in pool if r["ro_number"] not in used)
        used.add(record["ro_number"])
        questions.append(whole(ask.format(ro=record["ro_number"]), "ro_number", [record]))
    for ask in line_asks:
        record = next(r for r in multi if r["ro_number"] not in used)
        used.add(record["ro_number"])
        line = rng.choice([ln for ln in record["lines"] if ln["cause"] and ln["line"] != "A"])
        text = ask.format(ro=record["ro_number"], letter=line["line"].lower())
        questions.append(answer(text, "ro_number", [(record, line)]))
    return questions


def build_vin(shop: Shop, avoid: set[str]) -> list[Question]:
    rng = _rng("vin")
    asks = (
        "{topic} on the {desc}, VIN {vin} - what did we do?",
        "vin {vin} {topic} history",
        "any {topic} done on {vin}?",
        "customer w/ vin {vin} asking about the {topic} we did, which ro",
        "{vin} {topic}?",
        "did we ever do {topic} on vin# {vin}",
        "{desc} vin {vin} - {topic} details",
        "Customer is asking about the {topic} on their {desc}, VIN {vin}. What did we do?",
    )
    history_asks = (
        "full history on vin {vin}",
        "what have we done on VIN {vin}",
        "{vin} service history pls",
    )
    vehicles = [v for v in shop.vehicles if len(v.ros) >= 2 and v.vin not in avoid]
    rng.shuffle(vehicles)
    questions: list[Question] = []
    for v in vehicles:
        if len(questions) >= PER_CATEGORY - len(history_asks):
            break
        options = topics_on(shop, v, routine=False)
        if not options:
            continue
        topic, hits = rng.choice(options)
        avoid.add(v.vin)
        ask = asks[len(questions) % len(asks)]
        text = ask.format(
            topic=rng.choice(topic.names),
            desc=describe(v, rng),
            vin=vin_variant(v.vin, len(questions)),
        )
        questions.append(answer(text, "vin", hits, vin=v.vin, topic=topic.key))
    small = [v for v in shop.vehicles if 2 <= len(v.ros) <= MAX_EXPECTED and v.vin not in avoid]
    for i, ask in enumerate(history_asks):
        v = rng.choice(small)
        small.remove(v)
        avoid.add(v.vin)
        questions.append(whole(ask.format(vin=vin_variant(v.vin, i + 1)), "vin", v.ros, vin=v.vin))
    return questions


def build_plate(shop: Shop, avoid: set[str]) -> list[Question]:
    rng = _rng("plate")
    asks = (
        "plate {plate} {topic} history",
        "{topic} on plate {plate}?",
        "lic {plate} - did we do the {topic}? which ro",
        "tag {plate} what did we do for {topic}",
        "customer with plate {plate} asking about the {topic}",
        "{plate} {topic} - pull the ro",
        "Did we ever do {topic} on the car with plate {plate}?",
    )
    history_asks = (
        "history for plate {plate}",
        "{plate} - what have we done on it",
        "everything on lic plate {plate}",
    )
    vehicles = [v for v in shop.vehicles if len(v.ros) >= 2 and v.vin not in avoid]
    rng.shuffle(vehicles)
    questions: list[Question] = []
    for v in vehicles:
        if len(questions) >= PER_CATEGORY - len(history_asks):
            break
        options = topics_on(shop, v, routine=len(v.ros) <= 3)
        if not options:
            continue
        topic, hits = rng.choice(options)
        avoid.add(v.vin)
        ask = asks[len(questions) % len(asks)]
        plate = plate_variant(v.plate, len(questions))
        text = ask.format(topic=rng.choice(topic.names), plate=plate)
        questions.append(answer(text, "plate", hits, vin=v.vin, plate=plate, topic=topic.key))
    small = [v for v in shop.vehicles if 2 <= len(v.ros) <= MAX_EXPECTED and v.vin not in avoid]
    for i, ask in enumerate(history_asks):
        v = rng.choice(small)
        small.remove(v)
        avoid.add(v.vin)
        plate = plate_variant(v.plate, i + 1)
        questions.append(whole(ask.format(plate=plate), "plate", v.ros, vin=v.vin, plate=plate))
    return questions


def build_vehicle_history(shop: Shop) -> list[Question]:
    rng = _rng("vehicle_history")
    asks = (
        "{desc} — what have we done on it",
        "history on the {desc}",
        "{desc} service history",
        "what have we done on the {desc}?",
        "anything on file for the {desc}?",
        "past work on the {desc}",
        "{desc} back in, what did we do before?",
        "show me everything on the {desc}",
        "{desc} histroy",
        "what have we done on that {desc} so far",
        "Can you pull the service history for the {desc}?",
    )
    questions: list[Question] = []
    # one vehicle of its make and model in the whole shop: the model alone identifies it
    singles = [
        v
        for v in shop.vehicles
        if len(shop.matching(make=v.make, model=v.model)) == 1 and len(v.ros) <= MAX_EXPECTED
    ]
    for v in sorted(singles, key=lambda v: v.vin)[:3]:
        text = f"what have we done on the {v.make.lower()} {nick(v.model, rng)}?"
        facts = {"make": v.make, "model": v.model}
        questions.append(whole(text, "vehicle_history", v.ros, **facts))
    taken = {q.facts["model"] for q in questions}
    pool = [v for v in shop.vehicles if len(v.ros) <= MAX_EXPECTED and v.model not in taken]
    rng.shuffle(pool)
    for v in pool:
        if len(questions) >= PER_CATEGORY:
            break
        by_year = len(shop.matching(year=v.year, model=v.model)) == 1
        by_color = len(shop.matching(year=v.year, model=v.model, color=v.color)) == 1
        if not by_color:
            continue
        color = not by_year or rng.random() < 0.5
        ask = asks[len(questions) % len(asks)]
        short = "back in" in ask
        desc = describe(v, rng, color=color, make=rng.random() < 0.3, short_year=short)
        facts = {"year": str(v.year), "model": v.model}
        if color:
            facts["color"] = v.color
        questions.append(whole(ask.format(desc=desc), "vehicle_history", v.ros, **facts))
        taken.add(v.model)
        pool = [p for p in pool if p.model not in taken]
    return questions


@dataclass(frozen=True, slots=True)
class Symptom:
    key: str
    pattern: str  # regex over the complaint of a worked line
    phrases: tuple[str, ...]


SYMPTOMS: Final = (
    Symptom(
        "pulsation",
        r"pulsates|shakes when braking",
        ("pulsation when braking at highway speed", "steering wheel shake when braking"),
    ),
    Symptom(
        "brake_grind",
        r"grinding noise",
        ("grinding noise when braking", "metal grinding from the brakes when stopping"),
    ),
    Symptom("brake_squeal", r"squealing noise from the front", ("front brakes squealing",)),
    Symptom(
        "rear_brake_noise",
        r"parking brake feels weak|squeak from the rear|brake warning chime",
        ("parking brake weak and noise from the rear", "squeak from rear when braking"),
    ),
    Symptom(
        "ac_warm",
        r"\bAC\b",
        ("ac blowing warm", "a/c not cold", "ac blows warm at idle"),
    ),
    Symptom(
        "hard_start",
        r"slow to crank|hard to start|problems starting|clicks only|clicks once",
        ("slow crank in the morning", "hard start, clicks, needed a jump"),
    ),
    Symptom(
        "dead_battery",
        r"goes dead|going dead|died while driving",
        ("battery keeps going dead", "battery dies, dim lights"),
    ),
    Symptom(
        "pull",
        r"pulls to the|wanders|veers|off center",
        ("pulls to the right", "wanders on the highway, feels out of alignment"),
    ),
    Symptom(
        "front_clunk",
        r"rattle from front end|clunking noise over bumps|knocking from front",
        ("clunk over bumps from the front end", "front end rattle on rough roads"),
    ),
    Symptom("stall", r"stall", ("stalling at stops", "stalls for no reason")),
    Symptom(
        "rough_running",
        r"runs rough|shakes at idle|loss of power|rough idle",
        ("runs rough w/ cel", "misfire, engine shakes, cel flashing", "loss of power uphill + cel"),
    ),
    Symptom(
        "wheel_bearing",
        r"growling|humming noise",
        ("growling noise when turning", "humming noise that gets louder with speed"),
    ),
    Symptom(
        "headlight",
        r"low beam|headlight|lights flicker",
        ("headlight out", "headlights flickering on and off"),
    ),
    Symptom("tpms", r"tire pressure light", ("tpms light keeps coming on",)),
    Symptom("emissions", r"failed emissions", ("failed emissions w/ cel", "failed smog, cel lit")),
    Symptom(
        "shifting",
        r"harsh shifts|delayed shift|slips",
        ("harsh shifting with the cel lit", "trans shifts hard, cel"),
    ),
    Symptom("heater", r"heater", ("heater blowing lukewarm", "no heat, heater slow to warm up")),
    Symptom("idle_hunt", r"idle hunts", ("idle surging up and down", "idle hunting w/ cel")),
    Symptom(
        "abs_light", r"ABS and traction|ABS light", ("abs and traction lights on", "abs light on")
    ),
)


def build_symptom_fix(shop: Shop) -> list[Question]:
    rng = _rng("symptom_fix")
    asks = (
        "{desc} {symptom}, what fixed it last time",
        "{desc} w/ {symptom} - what did we do last time?",
        "customer says {symptom}, {desc}. what have we found before?",
        "{symptom} {desc} past fix?",
        "seen this before? {desc}, {symptom}. what was the repair",
        "I have a {desc} in with {symptom}. What did we replace the last time we saw this?",
    )
    groups: dict[str, list[tuple[tuple[str, str, int | None], list[Hit]]]] = defaultdict(list)
    for symptom in SYMPTOMS:

        def shows(line: Line, s: Symptom = symptom) -> bool:
            return (
                line["status"] in WORKED
                and not is_return(line)
                and re.search(s.pattern, line["complaint"]) is not None
            )

        by_model: dict[tuple[str, str], list[Hit]] = defaultdict(list)
        for r, line in shop.hits(shows):
            by_model[(r["vehicle"]["make"], r["vehicle"]["model"])].append((r, line))
        for (make, model), hits in sorted(by_model.items()):
            if fits(hits):
                groups[symptom.key].append(((make, model, None), hits))
                continue
            by_year: dict[int, list[Hit]] = defaultdict(list)
            for r, line in hits:
                by_year[r["vehicle"]["year"]].append((r, line))
            for model_year, year_hits in sorted(by_year.items()):
                if fits(year_hits):
                    groups[symptom.key].append(((make, model, model_year), year_hits))
    questions: list[Question] = []
    keys = [s.key for s in SYMPTOMS if groups[s.key]]
    rng.shuffle(keys)
    symptoms = {s.key: s for s in SYMPTOMS}
    rounds = 0
    while len(questions) < PER_CATEGORY:
        rounds += 1
        if rounds > 10:
            fail("symptom_fix: not enough symptom groups")
        for key in keys:
            if len(questions) >= PER_CATEGORY or not groups[key]:
                continue
            (make, model, year), hits = groups[key].pop(rng.randrange(len(groups[key])))
            desc = f"{year} {nick(model, rng)}" if year else f"{make.lower()} {nick(model, rng)}"
            if year is None and rng.random() < 0.5:
                desc = nick(model, rng)
            ask = asks[len(questions) % len(asks)]
            phrase = rng.choice(symptoms[key].phrases)
            facts = {"make": make, "model": model, "symptom": key}
            if year:
                facts["year"] = str(year)
            questions.append(
                answer(ask.format(symptom=phrase, desc=desc), "symptom_fix", hits, **facts)
            )
    return questions


CODE_RE: Final = re.compile(r"\b[PCBU][0-9][0-9A-F]{3}\b")


def build_trouble_code(shop: Shop) -> list[Question]:
    rng = _rng("trouble_code")
    plain = (
        "anyone seen {code} before? what fixed it",
        "{code} - what did we replace last time",
        "{code} diag history",
        "{code} fix?",
    )
    with_model = (
        "{code} on the {desc}",
        "{code} {desc} what fixed it",
        "cel {code} on a {desc}, past repairs?",
        "got a {code} on a {desc}, have we fixed one of these",
        "{desc} throwing {code}, what did we find last time",
    )
    by_code: dict[str, list[Hit]] = defaultdict(list)
    for r in shop.records:
        for line in r["lines"]:
            for code in sorted(set(CODE_RE.findall(line_text(line)))):
                by_code[code].append((r, line))
    codes = sorted(by_code)
    rng.shuffle(codes)
    questions: list[Question] = []
    for i, code in enumerate(codes[:PER_CATEGORY]):
        hits = by_code[code]
        typed = code.lower() if i % 3 else code
        if i % 2:
            r = rng.choice(hits)[0]
            v = shop.vehicle_of(r)
            model_hits = [h for h in hits if h[0]["vehicle"]["model"] == v.model]
            desc = describe(v, rng, year=rng.random() < 0.4, make=rng.random() < 0.3)
            text = with_model[(i // 2) % len(with_model)].format(code=typed, desc=desc)
            questions.append(answer(text, "trouble_code", model_hits, code=code, model=v.model))
        else:
            text = plain[(i // 2) % len(plain)].format(code=typed)
            questions.append(answer(text, "trouble_code", hits, code=code))
    return questions


def build_part_number(shop: Shop) -> list[Question]:
    rng = _rng("part_number")
    asks = (
        "which ro used {pn}",
        "where did we use part # {pn}",
        "{pn} - which vehicle was that on?",
        "pn {pn} ro?",
        "did we ever install {pn}? which ro",
        "looking for the ro with part {pn}",
        "{desc} {pn}, what car did that go on",
        "part {pn} - pull the ros",
        "ros with {pn} on them",
        "p/n {pn} who installed it and when",
    )
    by_part: dict[str, list[Hit]] = defaultdict(list)
    descriptions: dict[str, str] = {}
    for r in shop.records:
        for line in r["lines"]:
            for part in line["parts"]:
                by_part[part["part_number"]].append((r, line))
                descriptions[part["part_number"]] = part["description"]
    normed = {norm(pn) for pn in by_part}
    candidates = [
        pn
        for pn in sorted(by_part)
        if fits(by_part[pn])
        and re.search(r"\d", pn)
        and sum(1 for other in normed if norm(pn) in other) == 1
    ]
    multi = [pn for pn in candidates if len({h[0]["ro_number"] for h in by_part[pn]}) > 1]
    single = [pn for pn in candidates if pn not in multi]
    chosen = rng.sample(multi, 6) + rng.sample(single, PER_CATEGORY - 6)
    rng.shuffle(chosen)
    questions = []
    for i, pn in enumerate(chosen):
        typed = pn.lower() if i % 4 == 1 else pn
        ask = asks[i % len(asks)]
        text = ask.format(pn=typed, desc=descriptions[pn].lower())
        questions.append(answer(text, "part_number", by_part[pn], part=pn))
    return questions


def build_last_time(shop: Shop) -> list[Question]:
    rng = _rng("last_time")
    asks = (
        "last time we did {topic} on the {model} with plate {plate}",
        "when did we last do {topic} on vin {vin}",
        "When was the last {topic} on the {desc}? Customer says it was recent",
        "last {topic} on plate {plate}?",
        "how long since the last {topic} on the {desc}",
        "{desc} - when did we last do {topic}",
        "when did we last do the {topic} for vin {vin}? what mileage",
    )
    visit_asks = ("when was the {desc} last in?", "plate {plate} last visit - what did we do")
    routine_asks = (
        "last lof on the {desc} plate {plate}?",
        "when did we do the last oil change on vin {vin}",
    )
    unique = {
        v.vin
        for v in shop.vehicles
        if len(shop.matching(year=v.year, model=v.model, color=v.color)) == 1
    }
    candidates: list[tuple[Vehicle, Topic, list[Hit]]] = []
    for v in shop.vehicles:
        for topic in TOPICS.values():
            if topic.key == "brakes":
                continue
            hits = shop.hits(topic.done_on, v.ros)
            times = len({h[0]["ro_number"] for h in hits})
            routine_ok = topic.key not in ROUTINE or len(v.ros) >= 8
            if hits and routine_ok and (times >= 2 or topic.key not in ROUTINE):
                candidates.append((v, topic, hits))
    rng.shuffle(candidates)
    questions: list[Question] = []
    seen: set[str] = set()
    # the busiest vehicles: the latest of many oil changes must come first
    for ask, v in zip(routine_asks, sorted(shop.vehicles, key=lambda v: -len(v.ros)), strict=False):
        hits = shop.hits(TOPICS["oil"].done_on, v.ros)
        latest_date = max(h[0]["opened_on"] for h in hits)
        latest = [h for h in hits if h[0]["opened_on"] == latest_date]
        text = ask.format(
            desc=describe(v, rng), plate=plate_variant(v.plate, 0), vin=vin_variant(v.vin, 1)
        )
        questions.append(answer(text, "last_time", latest, vin=v.vin, topic="oil"))
        seen.add(v.vin)
    routine_count = 0
    for v, topic, hits in candidates:
        if len(questions) >= PER_CATEGORY - len(visit_asks):
            break
        if v.vin in seen:
            continue
        if topic.key in ROUTINE:
            if routine_count >= 1:
                continue
            routine_count += 1
        ask = asks[len(questions) % len(asks)]
        if "{desc}" in ask and v.vin not in unique:
            continue
        seen.add(v.vin)
        latest_date = max(h[0]["opened_on"] for h in hits)
        latest = [h for h in hits if h[0]["opened_on"] == latest_date]
        text = ask.format(
            topic=rng.choice(topic.names),
            model=nick(v.model, rng),
            plate=plate_variant(v.plate, len(questions)),
            vin=vin_variant(v.vin, len(questions)),
            desc=describe(v, rng, color=True),
        )
        questions.append(answer(text, "last_time", latest, vin=v.vin, topic=topic.key))
    for ask in visit_asks:
        v = next(
            v
            for v in rng.sample(shop.vehicles, len(shop.vehicles))
            if v.vin in unique and v.vin not in seen and len(v.ros) >= 3
        )
        seen.add(v.vin)
        last = v.ros[-1]
        text = ask.format(desc=describe(v, rng, color=True), plate=plate_variant(v.plate, 1))
        questions.append(whole(text, "last_time", [last], vin=v.vin, latest="visit"))
    return questions


def build_declined_work(shop: Shop) -> list[Question]:
    rng = _rng("declined_work")
    questions: list[Question] = []

    def deferred_lines(r: Record, statuses: Sequence[str]) -> list[Hit]:
        return [(r, line) for line in r["lines"] if line["status"] in statuses]

    # what was declined / recommended on one RO
    declined_ros = [r for r in shop.records if deferred_lines(r, ("declined",))]
    recommended_ros = [r for r in shop.records if deferred_lines(r, ("recommended",))]
    picked = rng.sample(declined_ros, 4)
    for ask, r in zip(
        (
            "what did the customer decline on ro {ro}",
            "ro {ro} declined work?",
            "anything declined on {ro}",
            "what did they turn down on ro# {ro}",
        ),
        picked,
        strict=True,
    ):
        hits = deferred_lines(r, ("declined",))
        questions.append(answer(ask.format(ro=r["ro_number"]), "declined_work", hits))
    for ask, r in zip(
        ("what did we recommend on ro {ro}", "ro {ro} - any recs for next visit?"),
        rng.sample([r for r in recommended_ros if r not in picked], 2),
        strict=True,
    ):
        hits = deferred_lines(r, DEFERRED)
        questions.append(answer(ask.format(ro=r["ro_number"]), "declined_work", hits))

    # did they come back for it
    returns: dict[str, list[Hit]] = defaultdict(list)
    for r in shop.records:
        for line in r["lines"]:
            found = re.search(r"recommended on RO (\d+)", line["complaint"])
            if found:
                returns[found.group(1)].append((r, line))
    came_back = [
        (r, line)
        for r in shop.records
        for line in r["lines"]
        if line["status"] in DEFERRED and r["ro_number"] in returns
    ]
    came_back = [
        (r, line)
        for r, line in came_back
        if any(
            TOPICS[k].put_off(line)
            and any(TOPICS[k].done_on(rl) for _, rl in returns[r["ro_number"]])
            for k in TOPICS
        )
    ]
    never = [
        (r, line)
        for r in shop.records
        for line in r["lines"]
        if line["status"] == "declined" and r["ro_number"] not in returns
    ]

    def done_later(r: Record, line: Line) -> bool:
        """The put-off job was done on a later visit anyway (not written as a return)."""
        later = [x for x in shop.vehicle_of(r).ros if x["opened_on"] > r["opened_on"]]
        kinds = [t for t in TOPICS.values() if t.key != "brakes" and t.put_off(line)]
        return any(t.done_on(ln) for t in kinds for x in later for ln in x["lines"])

    never = [(r, line) for r, line in never if not done_later(r, line)]
    come_back_asks = (
        "did the customer ever come back for the {topic} we recommended on ro {ro}?",
        "{topic} recomended on {ro} - did we end up doing it?",
        "ro {ro} they declined the {topic}, did they come back for it",
    )
    choices = [*rng.sample(came_back, 2), rng.choice(never)]
    for ask, (r, line) in zip(come_back_asks, choices, strict=True):
        topic = next(
            t for t in TOPICS.values() if t.key != "brakes" and t.deferred and t.put_off(line)
        )
        back = [(rr, rl) for rr, rl in returns.get(r["ro_number"], []) if topic.done_on(rl)]
        text = ask.format(topic=rng.choice(topic.names), ro=r["ro_number"])
        questions.append(answer(text, "declined_work", [(r, line), *back], topic=topic.key))

    # deferred work on one vehicle, by VIN or plate, with or without a topic
    vehicle_asks = (
        ("any declined {topic} work on the {desc} VIN {vin}", ("declined",)),
        ("was {topic} ever recommended on vin {vin}?", DEFERRED),
        ("plate {plate} - anything the customer put off?", DEFERRED),
        ("{plate} - any recomended or declined work on file?", DEFERRED),
    )
    vehicles = list(shop.vehicles)
    rng.shuffle(vehicles)
    used: set[str] = {n for q in questions for n in q.ros}
    for i, (ask, statuses) in enumerate(vehicle_asks):
        for v in vehicles:
            if v.numbers & used:
                continue
            if "{topic}" in ask:
                options = [
                    (t, shop.hits(deferring(t, statuses), v.ros))
                    for t in TOPICS.values()
                    if t.deferred and t.key != "brakes"
                ]
                options = [(t, h) for t, h in options if h]
                if not options:
                    continue
                topic, hits = rng.choice(options)
                name = rng.choice(topic.names)
            else:
                name, hits = "", shop.hits(having(statuses), v.ros)
            if not fits(hits):
                continue
            used |= v.numbers
            text = ask.format(
                topic=name,
                desc=describe(v, rng),
                vin=vin_variant(v.vin, i),
                plate=plate_variant(v.plate, i),
            )
            questions.append(answer(text, "declined_work", hits, vin=v.vin))
            break
        else:
            fail(f"declined_work: no vehicle for {ask!r}")

    # deferred work across one model
    model_asks = (
        ("any {model}s with a declined {topic}? need to call them", "brakes"),
        ("any {model} with {topic} recommended or declined?", "tires"),
    )
    for ask, key in model_asks:
        topic = TOPICS[key]
        by_model: dict[str, list[Hit]] = defaultdict(list)
        statuses = ("declined",) if "declined {topic}" in ask else DEFERRED
        for r, line in shop.hits(deferring(topic, statuses)):
            by_model[r["vehicle"]["model"]].append((r, line))
        models = sorted(m for m, hits in by_model.items() if fits(hits))
        several = [m for m in models if fits(by_model[m], low=2)]
        model = rng.choice(several or models)
        text = ask.format(topic=rng.choice(topic.names), model=nick(model, rng))
        questions.append(answer(text, "declined_work", by_model[model], model=model))
    return questions


_WORDS: Final = frozenset({"price", "rose", "wright", "young", "hall", "king", "bell", "cash"})


def tech_name(code: str, name: str, style: int) -> str:
    first, last = name.lower().split(" ", 1)
    alone = last if last not in _WORDS else f"{first} {last}"  # "price on 440637" misleads
    return (f"{name} ({code})", f"tech {code}", alone, f"{first} {last}", f"#{code}")[style % 5]


def build_technician(shop: Shop) -> list[Question]:
    rng = _rng("technician")
    questions: list[Question] = []
    techs = sorted(shop.technicians.items())

    # one technician's lines on one RO that several technicians worked
    mixed = [r for r in shop.records if len({c for ln in r["lines"] for c in tech_codes(ln)}) >= 2]
    ro_asks = (
        "what did {tech} do on ro {ro}",
        "ro {ro} - which lines did {tech} work",
        "{tech} on {ro}, what was his part of the job",
        "what did {tech} work on for ro# {ro}?",
        "{tech} labor on ro {ro}",
    )
    for i, (ask, r) in enumerate(zip(ro_asks, rng.sample(mixed, len(ro_asks)), strict=True)):
        code = rng.choice(sorted({c for ln in r["lines"] for c in tech_codes(ln)}))
        hits = [(r, ln) for ln in r["lines"] if code in tech_codes(ln)]
        text = ask.format(tech=tech_name(code, shop.technicians[code], i), ro=r["ro_number"])
        questions.append(answer(text, "technician", hits, tech=code))

    # who did a job on one RO
    who_asks = (
        "who did the {topic} on ro {ro}?",
        "which tech did the {topic} on {ro}",
        "ro {ro} {topic} - who was the tech",
    )
    jobs = [
        (r, line, t)
        for r in shop.records
        for line in r["lines"]
        for t in TOPICS.values()
        if t.key not in ROUTINE and t.key != "brakes" and t.done_on(line)
    ]
    taken = {q.ros[0] for q in questions}
    jobs = [j for j in jobs if j[0]["ro_number"] not in taken]
    for ask, (r, _line, topic) in zip(who_asks, rng.sample(jobs, len(who_asks)), strict=True):
        hits = [(r, ln) for ln in r["lines"] if topic.done_on(ln)]
        text = ask.format(topic=rng.choice(topic.names), ro=r["ro_number"])
        questions.append(answer(text, "technician", hits, topic=topic.key))

    # one technician's work on one kind of vehicle
    vehicle_asks = (
        "jobs by tech {code} on {desc}",
        "what has {tech} done on the {desc}s",
        "{tech} work on {desc}?",
        "list {desc} jobs {tech} did",
    )
    groups: list[tuple[str, int, str, list[Hit]]] = []
    for code, _ in techs:
        by_vehicle: dict[tuple[int, str], list[Hit]] = defaultdict(list)
        for r, line in shop.hits(by_tech(code)):
            by_vehicle[(r["vehicle"]["year"], r["vehicle"]["model"])].append((r, line))
        for (year, model), hits in sorted(by_vehicle.items()):
            if fits(hits, low=2):
                groups.append((code, year, model, hits))
    for i, ask in enumerate(vehicle_asks):
        code, year, model, hits = groups.pop(rng.randrange(len(groups)))
        groups = [g for g in groups if g[2] != model]
        text = ask.format(
            code=code,
            tech=tech_name(code, shop.technicians[code], i + 2),
            desc=f"{year} {nick(model, rng)}",
        )
        questions.append(answer(text, "technician", hits, tech=code, model=model))

    # one technician, one kind of job, one year
    job_asks = (
        "{tech} {topic} in {year}",
        "how many {topic} did {tech} do in {year}? which ros",
        "{topic} done by {tech} during {year}",
    )
    combos: list[tuple[str, Topic, str, list[Hit]]] = []
    for code, _ in techs:
        for topic in TOPICS.values():
            if topic.key in ROUTINE:
                continue
            by_year: dict[str, list[Hit]] = defaultdict(list)
            for r, line in shop.hits(by_tech_doing(code, topic)):
                by_year[r["opened_on"][:4]].append((r, line))
            combos += [(code, topic, y, h) for y, h in sorted(by_year.items()) if fits(h, low=2)]
    for i, ask in enumerate(job_asks):
        code, topic, when, hits = combos.pop(rng.randrange(len(combos)))
        combos = [c for c in combos if c[0] != code and c[1] != topic]
        text = ask.format(
            tech=tech_name(code, shop.technicians[code], i + 1),
            topic=rng.choice(topic.names),
            year=when,
        )
        questions.append(answer(text, "technician", hits, tech=code, topic=topic.key, year=when))
    return questions


def build_op_code(shop: Shop) -> list[Question]:
    rng = _rng("op_code")
    by_op: dict[str, list[Hit]] = defaultdict(list)
    for r in shop.records:
        for line in r["lines"]:
            if line["status"] not in WORKED:
                continue
            for code in sorted(set(op_codes(line))):
                by_op[code].append((r, line))
    questions: list[Question] = []

    rare_asks = (
        "list ros with op {op}",
        "any {op} jobs?",
        "{op} history",
        "op code {op} - which ros",
        "ros with labor op {op}",
        "who has done {op} and on what cars",
    )
    rare = [op for op in sorted(by_op) if fits(by_op[op], low=2) and not op.startswith("RCL-")]
    recalls = [op for op in sorted(by_op) if op.startswith("RCL-") and fits(by_op[op], low=2)]
    chosen = [*rng.sample(rare, len(rare_asks) - 1), *recalls[:1]]
    for i, (ask, op) in enumerate(zip(rare_asks, chosen, strict=True)):
        typed = op.lower() if i % 2 else op
        questions.append(answer(ask.format(op=typed), "op_code", by_op[op], op=op))

    vehicle_asks = (
        "{op} on a {desc}",
        "{op} {desc} - when and what parts",
        "have we done {op} on the {desc}",
        "{desc} {op} ros",
        "{op} for {desc}?",
        "any {op} on {desc}s",
    )
    groups: list[tuple[str, str, int | None, list[Hit]]] = []
    for op, hits in sorted(by_op.items()):
        if len({h[0]["ro_number"] for h in hits}) <= MAX_EXPECTED or op.startswith("RCL-"):
            continue
        by_model: dict[str, list[Hit]] = defaultdict(list)
        for h in hits:
            by_model[h[0]["vehicle"]["model"]].append(h)
        for model, model_hits in sorted(by_model.items()):
            if fits(model_hits, low=2):
                groups.append((op, model, None, model_hits))
                continue
            by_year: dict[int, list[Hit]] = defaultdict(list)
            for h in model_hits:
                by_year[h[0]["vehicle"]["year"]].append(h)
            groups += [(op, model, y, yh) for y, yh in sorted(by_year.items()) if fits(yh, low=2)]
    for i, ask in enumerate(vehicle_asks):
        op, model, year, hits = groups.pop(rng.randrange(len(groups)))
        groups = [g for g in groups if g[0] != op and g[1] != model]
        desc = f"{year} {nick(model, rng)}" if year else nick(model, rng)
        typed = op.lower() if i % 3 == 1 else op
        facts = {"op": op, "model": model} | ({"year": str(year)} if year else {})
        questions.append(answer(ask.format(op=typed, desc=desc), "op_code", hits, **facts))

    when_asks = (
        "{op} jobs in {month} {year}",
        "{op} done in {month} {year}?",
        "{op} {month} {year}",
    )
    months = [
        "jan",
        "feb",
        "march",
        "april",
        "may",
        "june",
        "july",
        "aug",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
    dated: list[tuple[str, str, list[Hit]]] = []
    for op, hits in sorted(by_op.items()):
        by_month: dict[str, list[Hit]] = defaultdict(list)
        for h in hits:
            by_month[h[0]["opened_on"][:7]].append(h)
        dated += [(op, m, mh) for m, mh in sorted(by_month.items()) if fits(mh, low=2)]
    taken = {q.facts["op"] for q in questions}
    dated = [d for d in dated if d[0] not in taken]
    for ask in when_asks:
        op, month, hits = dated.pop(rng.randrange(len(dated)))
        dated = [d for d in dated if d[0] != op]
        text = ask.format(op=op, month=months[int(month[5:]) - 1], year=month[:4])
        questions.append(answer(text, "op_code", hits, op=op, month=month))
    return questions


@dataclass(frozen=True, slots=True)
class Absent:
    """A question with no answer in this shop, and what makes sure of that."""

    question: str
    terms: tuple[str, ...] = ()  # regexes that must match nothing searchable
    makes: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    ros: tuple[str, ...] = ()
    vins: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()
    techs: tuple[str, ...] = ()


def build_no_answer(shop: Shop) -> list[Question]:
    other = generate_shop_records(SHOP_INDEX + 1, 40)
    other_vin = other[5]["customer"]["vin"]
    other_plate = other[7]["customer"]["license_plate"]
    other_ro = other[3]["ro_number"]
    max_ro = max(int(n) for n in shop.by_number)
    beyond = str(max_ro + 333)
    items = (
        Absent(
            "do we have anything on a 1987 yugo clutch?", (r"yugo", r"clutch (kit|job)"), ("Yugo",)
        ),
        Absent("tesla model 3 brake history", makes=("Tesla",), models=("Model 3",)),
        Absent("p0420 cat efficiency - have we fixed one?", (r"P0420", r"catalytic")),
        Absent(f"what was done on ro {beyond}", ros=(beyond,)),
        Absent(f"ro# {other_ro} parts used?", ros=(other_ro,)),
        Absent(f"vin {other_vin} history", vins=(other_vin,)),
        Absent(f"plate {other_plate} brake history", plates=(other_plate,)),
        Absent("which ro used 04465-06200", (r"04465-06200",)),
        Absent("timing belt on a 2009 prius", (r"timing belt",), models=("Prius",)),
        Absent("bmw x5 vanos solenoid", (r"vanos",), makes=("BMW",)),
        Absent("head gasket job on the 2012 jetta - what did we charge?", (r"head gasket",)),
        Absent("u0100 lost comm with ecm, any past fixes", (r"U0100",)),
        Absent("jobs by tech 888", (r"\b888\b",), techs=("888",)),
        Absent(
            "f-250 powerstroke injector replacement",
            (r"powerstroke", r"diesel"),
            models=("F-250",),
        ),
    )
    blob = shop.search_blob()
    blob_norm = norm(blob)
    questions = []
    for item in items:
        for term in item.terms:
            if re.search(term, blob, re.IGNORECASE):
                fail(f"no_answer {item.question!r}: {term!r} occurs in the shop's data")
        for make in item.makes:
            if shop.matching(make=make):
                fail(f"no_answer {item.question!r}: the shop has a {make}")
        for model in item.models:
            if shop.matching(model=model):
                fail(f"no_answer {item.question!r}: the shop has a {model}")
        for number in item.ros:
            if number in shop.by_number or re.search(rf"\b{number}\b", blob):
                fail(f"no_answer {item.question!r}: RO {number} exists")
        for code in item.vins + item.plates:
            if norm(code) in blob_norm or any(
                norm(code) in {norm(v.vin), norm(v.plate)} for v in shop.vehicles
            ):
                fail(f"no_answer {item.question!r}: {code} is in the shop")
        for tech in item.techs:
            if tech in shop.technicians:
                fail(f"no_answer {item.question!r}: technician {tech} exists")
        questions.append(Question(item.question, "no_answer", []))
    return questions


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def mentioned_ros(text: str) -> list[str]:
    """Six-digit numbers standing alone or written as RO123456 / #123456."""
    tokens = (re.sub(r"^(ro)?#?", "", t, flags=re.I) for t in re.findall(r"[0-9A-Za-z#]+", text))
    return [t for t in tokens if re.fullmatch(r"\d{6}", t)]


def _referenced_vehicles(shop: Shop, text: str) -> list[Vehicle]:
    flat = norm(text)
    found = []
    for v in shop.vehicles:
        bare = v.plate.rpartition(" ")[2]
        if norm(v.vin) in flat or norm(bare) in flat:
            found.append(v)
    return found


def _recheck(shop: Shop, q: Question) -> None:
    """Re-derive the answer from the facts a builder recorded, by other means where possible."""
    expected, facts = set(q.ros), q.facts
    if "part" in facts:
        pattern = re.compile(rf'"part_number": "{re.escape(facts["part"])}"')
        found = {r["ro_number"] for r in shop.records if pattern.search(json.dumps(r["lines"]))}
        if found != expected:
            fail(f"{q.question!r}: part {facts['part']} is on {sorted(found)}")
    if "code" in facts:
        found = {
            r["ro_number"]
            for r in shop.records
            if re.search(rf"\b{facts['code']}\b", shop.texts[r["ro_number"]])
            and facts.get("model", r["vehicle"]["model"]) == r["vehicle"]["model"]
        }
        if found != expected:
            fail(f"{q.question!r}: code {facts['code']} is on {sorted(found)}")
    if "op" in facts:
        found = {
            r["ro_number"]
            for r in shop.records
            for line in r["lines"]
            if line["status"] in WORKED
            and facts["op"] in op_codes(line)
            and facts.get("model", r["vehicle"]["model"]) == r["vehicle"]["model"]
            and facts.get("year", str(r["vehicle"]["year"])) == str(r["vehicle"]["year"])
            and r["opened_on"].startswith(facts.get("month", ""))
        }
        if found != expected:
            fail(f"{q.question!r}: op {facts['op']} is on {sorted(found)}")
    if q.category == "vehicle_history":
        year = int(facts["year"]) if "year" in facts else None
        matches = shop.matching(
            year=year, make=facts.get("make"), model=facts["model"], color=facts.get("color")
        )
        if len(matches) != 1 or matches[0].numbers != expected:
            fail(f"{q.question!r}: description matches {len(matches)} vehicles")
    if "vin" in facts:
        v = shop.by_vin[facts["vin"]]
        if not expected <= v.numbers:
            fail(f"{q.question!r}: expected ROs are not all on VIN {v.vin}")
        if facts.get("latest") == "visit" and expected != {v.ros[-1]["ro_number"]}:
            fail(f"{q.question!r}: not the vehicle's last visit")
        if q.category == "last_time" and "topic" in facts:
            topic = TOPICS[facts["topic"]]
            dates = [r["opened_on"] for r in v.ros if any(topic.done_on(ln) for ln in r["lines"])]
            last = {r["ro_number"] for r in v.ros if r["opened_on"] == max(dates)}
            if last != expected:
                fail(f"{q.question!r}: last {topic.key} on {v.vin} is {sorted(last)}")
    if "symptom" in facts:
        symptom_re = next(sym.pattern for sym in SYMPTOMS if sym.key == facts["symptom"])
        found = {
            r["ro_number"]
            for r in shop.records
            if (r["vehicle"]["make"], r["vehicle"]["model"]) == (facts["make"], facts["model"])
            and facts.get("year", str(r["vehicle"]["year"])) == str(r["vehicle"]["year"])
            and any(
                ln["status"] != "declined"
                and ln["status"] != "recommended"
                and ln["labor"]
                and not ln["complaint"].startswith("Customer returns for")
                and re.search(symptom_re, ln["complaint"])
                for ln in r["lines"]
            )
        }
        if found != expected:
            fail(f"{q.question!r}: that symptom was fixed on {sorted(found)}")
    if q.category in ("vin", "plate") and "topic" in facts:
        topic = TOPICS[facts["topic"]]
        v = shop.by_vin[facts["vin"]]
        found = {r["ro_number"] for r in v.ros if any(topic.done_on(ln) for ln in r["lines"])}
        if found != expected:
            fail(f"{q.question!r}: {topic.key} was done on {sorted(found)}")
    if "tech" in facts:
        for ref in q.lines or []:
            number, _, letter = ref.partition(":")
            line = next(ln for ln in shop.by_number[number]["lines"] if ln["line"] == letter)
            if facts["tech"] not in tech_codes(line):
                fail(f"{q.question!r}: technician {facts['tech']} did not work {ref}")


def validate(shop: Shop, questions: Sequence[Question]) -> None:
    texts = Counter(q.question.lower() for q in questions)
    if dupes := [t for t, n in texts.items() if n > 1]:
        fail(f"duplicate questions: {dupes}")
    counts = Counter(q.category for q in questions)
    for category in CATEGORIES:
        floor = MIN_NO_ANSWER if category == "no_answer" else MIN_PER_CATEGORY
        if counts[category] < floor:
            fail(f"{category}: {counts[category]} questions, need {floor}")
    if len(questions) < MIN_TOTAL:
        fail(f"{len(questions)} questions, need {MIN_TOTAL}")
    for q in questions:
        where = f"{q.category} {q.question!r}"
        if q.category not in CATEGORIES:
            fail(f"{where}: unknown category")
        if q.question != q.question.strip() or "{" in q.question or "  " in q.question:
            fail(f"{where}: badly formatted question")
        lowered = q.question.lower()
        digits = re.sub(r"\D", "", q.question)
        for term in shop.customer_terms:
            if (term.isdigit() and term in digits) or (not term.isdigit() and term in lowered):
                fail(f"{where}: quotes customer data")
        mentioned = mentioned_ros(q.question)
        if q.category == "no_answer":
            if q.ros or q.lines:
                fail(f"{where}: no_answer with expected answers")
            if any(n in shop.by_number for n in mentioned):
                fail(f"{where}: mentions an existing RO")
            if _referenced_vehicles(shop, q.question):
                fail(f"{where}: names a vehicle of this shop")
            continue
        if not 1 <= len(q.ros) <= MAX_EXPECTED or len(set(q.ros)) != len(q.ros):
            fail(f"{where}: {len(q.ros)} expected ROs")
        for number in q.ros:
            if number not in shop.by_number:
                fail(f"{where}: unknown RO {number}")
        for ref in q.lines or []:
            number, _, letter = ref.partition(":")
            if number not in q.ros:
                fail(f"{where}: line {ref} outside the expected ROs")
            if letter not in {ln["line"] for ln in shop.by_number[number]["lines"]}:
                fail(f"{where}: no line {ref}")
        if q.lines and {ref.partition(":")[0] for ref in q.lines} != set(q.ros):
            fail(f"{where}: expected ROs without an expected line")
        for number in mentioned:
            if number not in q.ros:
                fail(f"{where}: mentions RO {number} that is not expected")
        vehicles = _referenced_vehicles(shop, q.question)
        if q.category in ("vin", "plate") and len(vehicles) != 1:
            fail(f"{where}: names {len(vehicles)} vehicles")
        if vehicles and not set(q.ros) <= set().union(*(v.numbers for v in vehicles)):
            fail(f"{where}: expected ROs are not on the vehicle it names")
        if q.category == "vin" and norm(q.facts["vin"]) not in norm(q.question):
            fail(f"{where}: VIN missing")
        if q.category == "ro_number" and not set(q.ros) <= set(mentioned):
            fail(f"{where}: RO not in the question")
        _recheck(shop, q)


# --------------------------------------------------------------------------------------------


def build(records: list[Record]) -> list[Question]:
    shop = Shop(records)
    avoid: set[str] = set()
    questions = [
        *build_ro_number(shop),
        *build_vin(shop, avoid),
        *build_plate(shop, avoid),
        *build_vehicle_history(shop),
        *build_symptom_fix(shop),
        *build_trouble_code(shop),
        *build_part_number(shop),
        *build_last_time(shop),
        *build_declined_work(shop),
        *build_technician(shop),
        *build_op_code(shop),
        *build_no_answer(shop),
    ]
    validate(shop, questions)
    return questions


def main() -> int:
    records = generate_shop_records(SHOP_INDEX, RO_COUNT)
    try:
        questions = build(records)
    except EvalSetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    body = "".join(json.dumps(q.as_json(), ensure_ascii=False) + "\n" for q in questions)
    OUT_PATH.write_text(body, encoding="utf-8")
    counts = Counter(q.category for q in questions)
    for category in CATEGORIES:
        print(f"{category:16} {counts[category]:4}")
    print(f"{'total':16} {len(questions):4}  -> {OUT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
