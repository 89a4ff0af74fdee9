"""Real-text vector recall (issue 10): the partition HNSW index against an exact scan, on
shops built from real public text with the repetition real shops have.

    .venv/bin/python -u -P bench/vectors_real.py [--sizes 500 1000 ... 50000]
        [--data ../shared/data/public] [--variants inline m32 distinct] [--all]
        [--keep | --reuse DATABASE]

Chunks are the service's own (`retrieval.chunking.chunk_ro` over generated repair orders)
whose lines carry real text: NHTSA recall summaries, OBD-II trouble codes (title,
description, causes, components), NHTSA complaint narratives, plus routine jobs. The same
recall or routine job recurs on many ROs, differing only in the RO number, date, vehicle
and mileage of the context line, as in a real shop. A shop of N chunks is the first N
chunks of one generated history, one tenant partition each, in one fresh bench database.
Variants of a shop (same chunks): "inline" stores the vectors in the heap row, "m32" has
an HNSW index with m 32, ef_construction 256, "distinct" holds each distinct chunk body
once.

Embeddings come from the service's embedder and are cached on disk by text hash
(.data/bench-cache/), so a rerun embeds nothing. Questions are technician phrasings that
are not chunk texts: the first clause of a held-out complaint narrative, a trouble code's
title in lowercase words, a recall's component and symptom, routine questions.

Every query runs as the application role through the service's own SQL and settings
(`vector_sql`, `apply_planner_settings`); a setting under test is applied on top of those,
in the same transaction. Recall@10 is against an exact scan of the same partition (ties
in distance count as hits); latency is the vector statement alone, one client, warm (after
the recall pass), each query's fastest of three runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import gzip
import hashlib
import importlib
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text

# `-P` keeps bench/ off the import path (bench/retrieval.py would shadow the `retrieval`
# package); the project root goes on it instead, and the helpers of bench/retrieval.py
# are imported as `bench.retrieval` at run time (mypy, given this one file, would also
# take bench/retrieval.py for the `retrieval` package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import logging
from assistant.db import shop_graphs
from assistant.db.session import Database, DbContext, Role
from assistant.embedding import embedder_for
from assistant.tenants.service import create_tenant
from retrieval import search
from retrieval.chunking import LaborView, LineView, PartView, RoView, chunk_ro
from retrieval.embedders import DIMENSIONS, Embedder, Vectors

_helpers: Any = importlib.import_module("bench.retrieval")
Bench: Any = _helpers.Bench
percentile: Callable[[list[float], float], float] = _helpers.percentile

K = 10
SIZES = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "public"
CACHE = Path(__file__).resolve().parents[1] / ".data" / "bench-cache"
GOAL_MEAN, GOAL_MIN, GOAL_P95_MS = 0.995, 0.9, 15.0
TIMED_RUNS = 3
TECHS = [
    ("Mike Torres", "T12"),
    ("Ana Reyes", "T07"),
    ("Sam Okafor", "T21"),
    ("Lee Park", "T03"),
    ("Jo Brandt", "T15"),
    ("Raj Patel", "T09"),
]


# --- real text -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recall:
    campaign: str
    summary: str
    vehicles: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True, slots=True)
class Dtc:
    code: str
    title: str
    description: str
    causes: tuple[str, ...]
    components: tuple[str, ...]
    hours: Decimal


@dataclass(frozen=True, slots=True)
class Narrative:
    text: str
    component: str
    vehicle: tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class Job:
    """A routine job: the same words on every RO that has it."""

    op: str
    description: str
    complaint: str
    cause: str | None
    correction: str
    hours: str
    parts: tuple[tuple[str, str, str, str], ...] = ()


ROUTINE = [
    Job(
        "LOF",
        "Lube oil and filter",
        "Customer requests oil change.",
        None,
        "Performed oil and filter change, 0W-20 full synthetic, reset oil life monitor.",
        "0.5",
        (("15400-PLM-A02", "Oil filter", "1", "8.95"), ("08798-9037", "0W-20 oil qt", "5", "7.50")),
    ),
    Job(
        "LOF",
        "Lube oil and filter",
        "Oil change due per maintenance reminder.",
        None,
        "Changed engine oil and filter with 5W-30 synthetic blend, topped off fluids.",
        "0.5",
        (("PF63E", "Oil filter", "1", "9.49"), ("88866306", "5W-30 oil qt", "6", "6.95")),
    ),
    Job(
        "ROT",
        "Tire rotation",
        "Rotate tires.",
        None,
        "Rotated tires front to rear, set pressures to door placard, torqued lug nuts.",
        "0.4",
    ),
    Job(
        "MPI",
        "Multi-point inspection",
        "Perform multi-point inspection.",
        None,
        "Completed multi-point inspection; results reviewed with customer.",
        "0.3",
    ),
    Job(
        "BRKF",
        "Front brake pads and rotors",
        "Brakes squeal when stopping.",
        "Front pads worn to 2 mm, rotors scored below minimum thickness.",
        "Replaced front brake pads and rotors, lubricated slides, road tested.",
        "1.8",
        (
            ("45022-TBA-A01", "Front brake pad set", "1", "89.00"),
            ("45251-TBA-A01", "Front brake rotor", "2", "112.00"),
        ),
    ),
    Job(
        "BRKR",
        "Rear brake pads",
        "Grinding noise from rear when braking.",
        "Rear pads worn to backing plate.",
        "Replaced rear brake pads, machined rotors, bled brakes.",
        "1.5",
        (("43022-TBA-A00", "Rear brake pad set", "1", "74.00"),),
    ),
    Job(
        "BATT",
        "Battery test and replace",
        "Vehicle slow to crank in the morning.",
        "Battery failed load test, 210 CCA against 550 rated.",
        "Replaced battery, cleaned terminals, tested charging system 14.2 V.",
        "0.5",
        (("H6-760", "Battery group H6", "1", "189.95"),),
    ),
    Job(
        "ALN",
        "Four-wheel alignment",
        "Vehicle pulls to the right.",
        "Front toe and camber out of specification.",
        "Performed four-wheel alignment to specification, centered steering wheel.",
        "1.2",
    ),
    Job(
        "CAF",
        "Cabin air filter",
        "Musty smell from vents.",
        "Cabin filter clogged with debris.",
        "Replaced cabin air filter.",
        "0.3",
        (("80292-TBA-A11", "Cabin air filter", "1", "29.00"),),
    ),
    Job(
        "EAF",
        "Engine air filter",
        "Replace engine air filter per maintenance schedule.",
        None,
        "Replaced engine air filter.",
        "0.2",
        (("17220-5BA-A00", "Engine air filter", "1", "24.00"),),
    ),
    Job(
        "CLNT",
        "Coolant exchange",
        "Coolant service due.",
        None,
        "Drained and refilled engine coolant, bled air from system, pressure tested.",
        "1.0",
        (("OL999-9011", "Coolant gal", "2", "24.50"),),
    ),
    Job(
        "ATF",
        "Transmission fluid exchange",
        "Transmission fluid service due.",
        None,
        "Performed transmission fluid exchange, checked level hot.",
        "1.1",
        (("08200-9008", "ATF DW-1 qt", "4", "9.25"),),
    ),
    Job(
        "BRFL",
        "Brake fluid flush",
        "Brake fluid dark, moisture test failed.",
        "Brake fluid 3% water content.",
        "Flushed brake fluid with DOT 3, bled all four wheels.",
        "0.8",
        (("08798-9008", "Brake fluid DOT 3", "1", "12.00"),),
    ),
    Job(
        "WIP",
        "Wiper blades",
        "Wipers streaking.",
        "Wiper blade rubber torn.",
        "Replaced front wiper blades.",
        "0.2",
        (("76620-TBA-A01", "Wiper blade 26in", "2", "19.00"),),
    ),
    Job(
        "TIRE",
        "Four new tires",
        "Tires worn, customer wants replacement.",
        "Tread depth 2/32 on all four tires.",
        "Mounted and balanced four new tires, new valve stems, set pressures.",
        "1.0",
        (("215-55R17", "Tire 215/55R17", "4", "142.00"),),
    ),
    Job(
        "BAL",
        "Balance tires",
        "Vibration in steering wheel at 60 mph.",
        "Front wheels out of balance.",
        "Balanced all four wheels, road tested.",
        "0.6",
    ),
    Job(
        "ACS",
        "A/C performance check",
        "A/C blowing warm.",
        "System low on refrigerant, no leak found with dye.",
        "Evacuated and recharged A/C system with R-1234yf, added dye, vent temp 42 F.",
        "1.2",
    ),
    Job(
        "SPK",
        "Spark plugs",
        "Replace spark plugs at 100k service.",
        None,
        "Replaced spark plugs, checked coils.",
        "1.3",
        (("12290-R70-A01", "Spark plug", "4", "16.50"),),
    ),
    Job(
        "SRB",
        "Serpentine belt",
        "Squeal on cold start.",
        "Drive belt glazed and cracked.",
        "Replaced serpentine belt, inspected tensioner and idler.",
        "0.6",
        (("31110-5A2-A01", "Drive belt", "1", "48.00"),),
    ),
    Job(
        "TPMS",
        "TPMS sensor",
        "Tire pressure light on.",
        "Left rear TPMS sensor battery dead.",
        "Replaced left rear TPMS sensor and relearned sensors.",
        "0.6",
        (("42753-TBA-A31", "TPMS sensor", "1", "64.00"),),
    ),
    Job(
        "WLK",
        "Wheel bearing",
        "Humming noise increasing with speed.",
        "Right front wheel bearing rough.",
        "Replaced right front hub and bearing assembly.",
        "1.6",
        (("44300-TBA-A01", "Hub bearing assembly", "1", "168.00"),),
    ),
    Job(
        "STRT",
        "Struts",
        "Bouncy ride, clunk over bumps.",
        "Front struts leaking.",
        "Replaced front strut assemblies, performed alignment.",
        "2.4",
        (("51610-TBA-A01", "Front strut assembly", "2", "199.00"),),
    ),
    Job(
        "DIFF",
        "Differential fluid",
        "Rear differential service due.",
        None,
        "Drained and refilled rear differential fluid.",
        "0.5",
    ),
    Job(
        "FUEL",
        "Fuel induction service",
        "Rough idle, customer requests fuel system cleaning.",
        None,
        "Performed fuel induction cleaning and throttle body service.",
        "0.8",
    ),
    Job(
        "PDI",
        "State inspection",
        "State safety inspection.",
        None,
        "Performed state safety inspection, vehicle passed.",
        "0.5",
    ),
    Job(
        "KEY",
        "Key fob battery",
        "Key fob not working intermittently.",
        "Fob battery low.",
        "Replaced key fob battery and reprogrammed.",
        "0.2",
    ),
    Job(
        "HDL",
        "Headlamp bulb",
        "Left headlight out.",
        "Low beam bulb burned out.",
        "Replaced left low beam bulb, aimed headlamps.",
        "0.3",
    ),
    Job(
        "SFT",
        "Software update",
        "Customer reports infotainment freezing.",
        "Known software concern.",
        "Updated infotainment software per service bulletin.",
        "0.7",
    ),
]

DECLINED = [
    ("Recommended rear brake pads, measured 3 mm.", "Customer declined rear brake pads."),
    ("Recommended coolant exchange, coolant tests weak.", "Customer declined coolant service."),
    ("Recommended front struts, leaking.", "Customer declined struts at this time."),
    ("Recommended four tires, 3/32 tread.", "Customer declined tires, will return."),
    ("Recommended transmission fluid exchange, fluid dark.", "Customer declined, next visit."),
    ("Recommended serpentine belt, cracked.", "Customer declined belt replacement."),
]

COMPLAINTS_BY_GROUP = {
    "P": [
        "Customer states check engine light is on.",
        "Check engine light on and engine runs rough.",
        "MIL on, no drivability concern noticed by customer.",
    ],
    "B": ["Airbag light on.", "Customer states warning light on dash, body electrical concern."],
    "C": ["ABS and traction control lights on.", "Brake warning light on, ABS light on."],
    "U": ["Several warning lights on, radio resets.", "No communication with a module, lights on."],
}

ROUTINE_QUESTIONS = [
    "oil change 0w20 full synthetic",
    "when did we last rotate the tires",
    "brakes squeal when stopping",
    "grinding noise from the rear when braking",
    "slow crank in the morning battery",
    "car pulls to the right after pothole",
    "musty smell from the ac vents",
    "coolant flush done",
    "vibration at highway speed in the steering wheel",
    "ac not cold blowing warm air",
    "squealing belt on cold start",
    "tire pressure light stays on",
    "humming noise that gets louder with speed",
    "clunk over bumps front end",
    "customer declined rear brakes",
    "key fob stopped working",
    "headlight bulb out driver side",
    "radio screen freezes software update",
    "transmission fluid service interval",
    "rough idle after fuel cleaning",
]


def _vehicle(part: str) -> tuple[int, str, str] | None:
    make, _, rest = part.partition("|")
    model, _, year = rest.partition("|")
    if not year.isdigit() or not (1980 < int(year) < 2030):
        return None
    return int(year), _name(make), _name(model)


def _name(word: str) -> str:
    return word if len(word) <= 3 else word.title()


_BOILERPLATE = re.compile(
    r"(?i)^(attached|please find|this is|remedy instructions|manufacturer notices?|owner "
    r"notification|dealer notice|recall (remedy|repair)|advance|interim|revised|final|"
    r"followup|miscellaneous|new vehicle|customer letter|owner letter|onl\b)"
)


def load_recalls(data: Path) -> list[Recall]:
    """Recall campaigns with a real summary (one per distinct summary)."""
    seen: set[str] = set()
    out = []
    path = data / "nhtsa_recalls" / "recall_documents_vehicles_2020_2026_dedup.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            summary = " ".join(row["summary"].split())
            if len(summary) < 100 or _BOILERPLATE.match(summary) or summary in seen:
                continue
            vehicles = tuple(v for v in map(_vehicle, row["vehicles"].split(";")) if v)
            if not vehicles:
                continue
            seen.add(summary)
            words = summary.split()
            out.append(Recall(row["nhtsa_id"], " ".join(words[:90]), vehicles))
    return out


def load_codes(data: Path) -> list[Dtc]:
    out = []
    with (data / "obdex_dtc" / "dtc_codes_en.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            causes = tuple(
                re.sub(r"\s*\((high|medium|low)\)$", "", c.strip())
                for c in row["common_causes_en"].split(";")
                if c.strip()
            )
            hours = re.findall(r"[\d.]+", row["estimated_hours"]) or ["1.0"]
            out.append(
                Dtc(
                    row["code"],
                    row["title_en"],
                    row["description_en"],
                    causes or ("Fault confirmed",),
                    tuple(c.replace("_", " ") for c in row["affected_components"].split(";") if c),
                    Decimal(hours[0]),
                )
            )
    return out


def load_narratives(data: Path) -> list[Narrative]:
    seen: set[str] = set()
    out = []
    with (data / "nhtsa_flat_samples" / "complaints.tsv").open(encoding="latin-1") as f:
        for row in csv.reader(f, delimiter="\t"):
            narrative = re.sub(r"\s*(\*[A-Z]{2}|TT)(\s+TT)*\s*$", "", " ".join(row[19].split()))
            if narrative in seen or not row[5].isdigit():
                continue
            seen.add(narrative)
            year = int(row[5]) if row[5] != "9999" else 1995
            vehicle = (year, _name(row[3]), _name(row[4]))
            out.append(Narrative(narrative, row[11].strip(), vehicle))
    return out


@dataclass(slots=True)
class Sources:
    recalls: list[Recall]
    codes: list[Dtc]
    narratives: list[Narrative]
    held_out: list[Narrative]
    recall_weights: list[float] = field(default_factory=list)
    code_weights: list[float] = field(default_factory=list)

    @classmethod
    def load(cls, data: Path) -> Sources:
        rng = random.Random(10)  # noqa: S311 - test data
        recalls, codes, narratives = load_recalls(data), load_codes(data), load_narratives(data)
        rng.shuffle(recalls)
        # Common engine codes first, then the rest: a shop sees P0 codes most.
        rng.shuffle(codes)
        codes.sort(key=lambda c: c.code[:2] != "P0")
        rng.shuffle(narratives)
        held = len(narratives) * 2 // 5
        return cls(
            recalls,
            codes,
            narratives[held:],
            narratives[:held],
            [1 / (i + 5) ** 1.05 for i in range(len(recalls))],
            [1 / (i + 20) for i in range(len(codes))],
        )


# --- shops -----------------------------------------------------------------------------


def _labor(op: str, description: str, hours: Decimal, rate: Decimal, rng: random.Random) -> Any:
    name, code = rng.choice(TECHS)
    return LaborView(op, description, name, code, hours, (hours * rate).quantize(Decimal("0.01")))


def add_line(
    lines: list[LineView],
    status: str,
    complaint: str,
    cause: str | None,
    correction: str | None,
    labor: Sequence[LaborView] = (),
    parts: Sequence[PartView] = (),
) -> None:
    letter = "ABCDEFGH"[len(lines)]
    lines.append(
        LineView(
            uuid.uuid4(), letter, status, complaint, cause, correction, tuple(labor), tuple(parts)
        )
    )


def generate_chunks(src: Sources, count: int, count_tokens: Callable[[str], int]) -> list[Any]:
    """The first `count` chunks of one shop's history: ROs in date order, each chunked the
    way ingestion chunks it. Returns (kind, content, token_count) tuples."""
    rng = random.Random(2026)  # noqa: S311 - test data
    rate = Decimal("165.00")
    chunks: list[Any] = []
    ro_index = 0
    start = date(2021, 1, 4)
    while len(chunks) < count:
        lines: list[LineView] = []
        vehicle: tuple[int, str, str] | None = None

        if rng.random() < 0.3:
            recall = rng.choices(src.recalls, src.recall_weights)[0]
            vehicle = rng.choice(recall.vehicles)
            hours = Decimal(5 + int(hashlib.sha256(recall.campaign.encode()).hexdigest(), 16) % 15)
            hours /= 10
            add_line(
                lines,
                "completed",
                f"Perform safety recall {recall.campaign}.",
                recall.summary,
                f"Performed safety recall {recall.campaign} per manufacturer remedy"
                " instructions, verified repair.",
                [
                    _labor(
                        f"R{recall.campaign}",
                        f"Safety recall {recall.campaign}",
                        hours,
                        Decimal(0),
                        rng,
                    )
                ],
            )
        if rng.random() < 0.75 or not lines:
            for job in rng.sample(ROUTINE, 2 if rng.random() < 0.3 else 1):
                add_line(
                    lines,
                    "completed",
                    job.complaint,
                    job.cause,
                    job.correction,
                    [_labor(job.op, job.description, Decimal(job.hours), rate, rng)],
                    [PartView(p, d, Decimal(q), Decimal(u)) for p, d, q, u in job.parts],
                )
        if rng.random() < 0.35:
            dtc = rng.choices(src.codes, src.code_weights)[0]
            cause = rng.choice(dtc.causes)
            component = rng.choice(dtc.components) if dtc.components else "affected component"
            add_line(
                lines,
                "completed",
                rng.choice(COMPLAINTS_BY_GROUP[dtc.code[0]]),
                f"Scanned {dtc.code} {dtc.title}. {dtc.description} Found: {cause}.",
                f"Replaced {component}, cleared codes, road tested, no codes returned.",
                [_labor("DIAG", f"Diagnose {dtc.code}", dtc.hours, rate, rng)],
            )
        if rng.random() < 0.06:
            story = rng.choice(src.narratives)
            vehicle = vehicle or story.vehicle
            add_line(
                lines,
                "completed",
                story.text,
                f"Inspected {story.component.lower()}, verified concern.",
                "Repaired as needed, road tested, concern corrected.",
                [_labor("DIAG", "Diagnose customer concern", Decimal("1.0"), rate, rng)],
            )
        if rng.random() < 0.2:
            recommended, declined = rng.choice(DECLINED)
            add_line(lines, "declined", recommended, None, declined)
        if vehicle is None:
            vehicle = rng.choice(rng.choice(src.recalls).vehicles)
        opened = start + timedelta(days=ro_index // 9)
        mileage = rng.randrange(3_000, 180_000)
        advisor = rng.choice([("Dana Moss", "A3"), ("Chris Lin", "A1"), ("Pat Gomez", "A5")])
        labor_total = sum(
            (lab.amount or Decimal(0) for ln in lines for lab in ln.labor), Decimal(0)
        )
        parts_total = sum(
            (
                (p.unit_price or Decimal(0)) * (p.quantity or Decimal(0))
                for ln in lines
                for p in ln.parts
            ),
            Decimal(0),
        )
        ro = RoView(
            ro_id=uuid.uuid4(),
            ro_number=str(184_000 + ro_index),
            opened_on=opened,
            closed_on=opened + timedelta(days=rng.choice([0, 0, 1, 2])),
            status="closed",
            advisor_name=advisor[0],
            advisor_tag=advisor[1],
            year=vehicle[0],
            make=vehicle[1],
            model=vehicle[2],
            color=rng.choice(["White", "Black", "Silver", "Gray", "Blue", "Red"]),
            mileage_in=mileage,
            mileage_out=mileage + rng.randrange(0, 15),
            totals={
                "labor_total": labor_total,
                "parts_total": parts_total,
                "total_due": labor_total + parts_total,
            },
            lines=tuple(lines),
        )
        chunks += [(c.kind, c.content, c.token_count) for c in chunk_ro(ro, count_tokens)]
        ro_index += 1
    return chunks[:count]


_FILLER = frozenset(
    "a an the to in of from when while was and or with for on at by that which is be if as"  # noqa: SIM905
    " into it its this".split()
)
_NOT_A_PART = frozenset(
    "this it which that they there these those vehicles vehicle dealers owners recall"  # noqa: SIM905
    " and or not what some certain subject affected".split()
)


def _phrase(words: list[str], most: int) -> str:
    """At most `most` words, without filler at either end."""
    words = words[:most]
    while words and words[-1] in _FILLER:
        words.pop()
    while words and words[0] in _FILLER:
        words.pop(0)
    return " ".join(words)


def generate_questions(src: Sources) -> list[tuple[str, str]]:
    """(kind, question): none is a chunk text."""
    rng = random.Random(77)  # noqa: S311 - test data
    out: list[tuple[str, str]] = []
    for story in src.held_out:
        words = re.sub(r"[^a-z0-9' ]+", " ", story.text.split(".")[0].lower()).split()
        if words and words[0] in {"consumer", "upon", "while", "during"}:
            words = words[1:]
        question = _phrase(words, 9)
        if len(question.split()) >= 3:
            out.append(("narrative", question))
    templates = ["{t}", "{c} {t}", "check engine light {t}", "what fixed {c}"]
    for i in range(40):
        dtc = rng.choices(src.codes, src.code_weights)[0]
        title = " ".join(re.sub(r"[^a-z0-9 ]+", " ", dtc.title.lower()).split())
        out.append(("trouble code", templates[i % 4].format(t=title, c=dtc.code.lower())))
    # A recall's part and symptom: "... the fuel pump may seize and stop working ..."
    symptom = re.compile(r"((?:[a-z-]+ ){1,4})(may|could|can) ((?:[a-z-]+ ?){2,7})")
    recalls = 0
    seen: set[str] = set()
    while recalls < 40:
        recall = rng.choices(src.recalls, src.recall_weights)[0]
        for m in symptom.finditer(re.sub(r"[^a-z -]+", " ", recall.summary.lower())):
            part = _phrase(m.group(1).split()[-3:], 3)
            question = f"{part} {m.group(2)} {_phrase(m.group(3).split(), 5)}"
            if not part or part.split()[-1] in _NOT_A_PART or question in seen:
                continue
            seen.add(question)
            out.append(("recall", question))
            recalls += 1
            break
    out += [("routine", q) for q in ROUTINE_QUESTIONS]
    return list(dict.fromkeys(out))


# --- embeddings ------------------------------------------------------------------------


class EmbeddingCache:
    """Vectors by sha256(model, text), kept as shards under .data/bench-cache/."""

    def __init__(self, embedder: Embedder, folder: Path = CACHE) -> None:
        self.embedder = embedder
        self.folder = folder / embedder.model_name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.vectors: dict[str, Any] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            with np.load(shard) as data:
                self.vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def key(self, content: str) -> str:
        return hashlib.sha256(f"{self.embedder.model_name}\0{content}".encode()).hexdigest()[:32]

    def embed(self, texts: Sequence[str], batch: int = 2_048) -> Vectors:
        keys = [self.key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        if todo:
            print(f"embedding {len(todo):,} texts ({len(set(keys)) - len(todo):,} cached)")
        started = time.perf_counter()
        pending = list(todo.items())
        for i in range(0, len(pending), batch):
            part = pending[i : i + batch]
            vectors = self.embedder.embed([t for _, t in part])
            names = np.array([k for k, _ in part])
            shard = self.folder / f"shard-{time.time_ns()}.npz"
            tmp = shard.with_suffix(".tmp.npz")
            np.savez(tmp, keys=names, vectors=vectors)
            tmp.replace(shard)
            self.vectors.update(zip(names.tolist(), vectors, strict=True))
            done = i + len(part)
            rate = done / (time.perf_counter() - started)
            print(f"  {done:,} of {len(pending):,} ({rate:.0f}/s)")
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)


# --- measuring -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    path: str  # "exact" or "hnsw", as retrieval.search.choose_path names them
    overrides: dict[str, str] = field(default_factory=dict)


def hnsw(ef: int, **extra: str) -> Setting:
    name = f"hnsw ef_search {ef}" + "".join(f", {k} {v}" for k, v in extra.items())
    return Setting(
        name, "hnsw", {"hnsw.ef_search": str(ef)} | {f"hnsw.{k}": v for k, v in extra.items()}
    )


SETTINGS = [
    Setting("exact", "exact"),
    hnsw(100),
    hnsw(200),
    hnsw(400),
    hnsw(800),
    hnsw(1000),
    hnsw(100, iterative_scan="strict_order", max_scan_tuples="20000"),
]


def service_now(rows: int) -> Setting:
    """What retrieval.search does today for an unfiltered question, as a setting here."""
    if search.choose_path(rows, search.Filters()) == "exact":
        return Setting("exact", "exact")
    return hnsw(int(search.planner_settings("hnsw", max(search.CANDIDATES, K))["hnsw.ef_search"]))


def proposed(rows: int, inline: bool = False) -> Setting:
    """The rule this benchmark recommends (RESULTS.md, issue 10): exact search below
    EXACT_BELOW_ROWS chunks, else HNSW at ef_search 800. `inline`: with the vectors kept
    in the heap row (a schema change), exact search stays under 15 ms up to 5,000."""
    if rows < (PROPOSED_EXACT_BELOW_INLINE if inline else PROPOSED_EXACT_BELOW):
        return Setting("proposed: exact", "exact")
    return Setting(
        f"proposed: hnsw ef_search {PROPOSED_EF}", "hnsw", {"hnsw.ef_search": str(PROPOSED_EF)}
    )


PROPOSED_EXACT_BELOW = 1_000
PROPOSED_EXACT_BELOW_INLINE = 5_000
PROPOSED_EF = 800


@dataclass(slots=True)
class Row:
    size: int
    setting: str
    recall10: list[float]
    recall50: list[float]
    ms: list[float]
    shop: str = "as stored"
    plan: str = ""

    @property
    def passes(self) -> bool:
        return (
            statistics.fmean(self.recall10) >= GOAL_MEAN
            and min(self.recall10) >= GOAL_MIN
            and percentile(self.ms, 0.95) <= GOAL_P95_MS
        )

    @property
    def recall_ok(self) -> bool:
        return statistics.fmean(self.recall10) >= GOAL_MEAN and min(self.recall10) >= GOAL_MIN

    def markdown(self, chosen: bool = False) -> str:
        cells = [
            f"{self.size:,}",
            self.shop,
            self.setting,
            self.plan,
            f"{statistics.fmean(self.recall10):.4f}",
            f"{min(self.recall10):.2f}",
            str(sum(r < GOAL_MIN for r in self.recall10)),
            f"{statistics.fmean(self.recall50):.4f}",
            f"{percentile(self.ms, 0.5):.1f}",
            f"{percentile(self.ms, 0.95):.1f}",
            "yes" if self.passes else "no",
        ]
        if chosen:
            cells = [f"**{c}**" for c in cells]
        return "| " + " | ".join(cells) + " |"


HEADER = (
    "| chunks | shop | setting | plan | mean recall@10 | min | queries < 0.9 | mean recall@50"
    " | p50 ms | p95 ms | meets goal |\n"
    "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)

_OVERRIDE = text(
    "SELECT set_config('hnsw.ef_search', :ef, true),"
    " set_config('hnsw.iterative_scan', :iterative, true),"
    " set_config('hnsw.max_scan_tuples', :tuples, true),"
    " set_config('plan_cache_mode', :plans, true)"
)
_Q = bindparam("q", type_=Vector(DIMENSIONS))


async def run_query(
    db: Database,
    tenant: uuid.UUID,
    vector: list[float],
    setting: Setting,
    n: int,
    explain: bool = False,
) -> tuple[list[tuple[uuid.UUID, float]], float, str]:
    """The service's vector step (its SQL and planner settings), then the setting's own
    values on top. Returns the rows, the vector statement's time in ms and, with
    `explain`, which plan ran it.

    Every setting here plans the statement for its shop (`plan_cache_mode`
    force_custom_plan, unless the setting says otherwise): psycopg prepares a statement on
    its fifth run on a connection, and PostgreSQL then may switch to a generic plan, which
    cannot see the shop, so it reads every chunk of the partition and sorts them, whatever
    ef_search says (the table's plan column then reads "generic plan"). The service's
    settings lack it; see RESULTS.md."""
    async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as session:
        await search.apply_planner_settings(session, setting.path, n)
        values = search.planner_settings(setting.path, n) | setting.overrides
        await session.execute(
            _OVERRIDE,
            {
                "ef": values["hnsw.ef_search"],
                "iterative": values["hnsw.iterative_scan"],
                "tuples": values.get("hnsw.max_scan_tuples", "20000"),
                "plans": values.get("plan_cache_mode", "force_custom_plan"),
            },
        )
        params: dict[str, Any] = {"tenant": tenant, "q": vector, "n": n}
        statement = search.vector_sql(setting.path, search.Filters(), params)
        plan = ""
        if explain:
            lines = await session.execute(text("EXPLAIN " + statement).bindparams(_Q), params)
            explained = " ".join(r[0] for r in lines)
            plan = "hnsw index" if "Index Scan" in explained and "Order By" in explained else "scan"
        started = time.perf_counter()
        result = await session.execute(text(statement).bindparams(_Q), params)
        rows = [(uuid.UUID(str(r[0])), float(r[1])) for r in result]
        return rows, (time.perf_counter() - started) * 1000, plan


def recall_at(
    truth: list[tuple[uuid.UUID, float]], got: list[tuple[uuid.UUID, float]], k: int
) -> float:
    """Share of the exact top k found, a result as far as the exact k-th counting as found
    (near-duplicate chunks can tie)."""
    k = min(k, len(truth))
    if k == 0:
        return 1.0
    kth = truth[k - 1][1] + 1e-6
    return sum(1 for _, d in got[:k] if d <= kth) / k


async def generic_plans(db: Database) -> int:
    """Runs of the vector statements on a generic plan, on this (one) connection."""
    async with db.transaction(None) as session:
        result = await session.execute(
            text(
                "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements"
                " WHERE statement LIKE '%<=>%'"
            )
        )
        return int(result.scalar_one())


async def measure_shop(
    url: str,
    tenant: uuid.UUID,
    size: int,
    vectors: list[list[float]],
    settings: list[Setting],
    skip: set[str],
    shop: str = "as stored",
) -> list[Row]:
    """Each setting on a connection of its own (one), so that what PostgreSQL's plan cache
    learnt from one setting's runs does not decide the next setting's plans."""
    n = max(search.CANDIDATES, K)
    exact = Setting("exact", "exact")
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        truth = [(await run_query(db, tenant, v, exact, n))[0] for v in vectors]
    finally:
        await db.dispose()
    rows = []
    for setting in settings:
        if setting.name in skip:
            continue
        db = Database(url, pool_size=1, max_overflow=0)
        try:
            plan = (await run_query(db, tenant, vectors[0], setting, n, explain=True))[2]
            found = [(await run_query(db, tenant, v, setting, n))[0] for v in vectors]
            generic = await generic_plans(db)
            # Each query's fastest of three timed runs: this 2-core machine is shared (other
            # sessions, the test suite), and their load is not the query's cost.
            times = []
            for v in vectors:
                runs = [(await run_query(db, tenant, v, setting, n))[1] for _ in range(TIMED_RUNS)]
                times.append(min(runs))
        finally:
            await db.dispose()
        if generic:
            plan = f"generic plan ({generic} of {len(vectors) + 1} runs)"
        row = Row(
            size,
            setting.name,
            [recall_at(t, f, K) for t, f in zip(truth, found, strict=True)],
            [recall_at(t, f, n) for t, f in zip(truth, found, strict=True)],
            times,
            shop,
            plan,
        )
        print("  " + row.markdown(), flush=True)
        rows.append(row)
    return rows


# --- the run ---------------------------------------------------------------------------


VARIANTS = {
    "": "as stored",
    "inline": "vectors inline",
    "m32": "index m 32, ef_construction 256",
    "distinct": "distinct bodies",
}
# The sizes each variant is loaded at: where it can change the answer.
VARIANT_SIZES = {"inline": (0, 20_000), "m32": (5_000, 50_000), "distinct": (2_000, 20_000)}
HNSW_INDEX = (
    "USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops)"
    " WITH (m = {m}, ef_construction = {efc})"
)


def shop_slug(size: int, variant: str = "") -> str:
    return f"real-{size}" + (f"-{variant}" if variant else "")


def partition_of(conn: psycopg.Connection[Any], tenant: uuid.UUID) -> str:
    """The hash partition (migration 0021) that holds the shop's chunks, which it shares."""
    row = conn.execute(
        "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'app.ro_chunks'::regclass AND satisfies_hash_partition("
        "'app.ro_chunks'::regclass, 64,"
        " substring(c.relname FROM 'ro_chunks_h(\\d+)')::int, %s::uuid)",
        [tenant],
    ).fetchone()
    assert row is not None, "no hash partition for the shop"
    return str(row[0])


def load(
    bench: Any,
    sizes: list[int],
    chunks: list[Any],
    vectors: Vectors,
    model: str,
    variants: list[str],
) -> dict[str, uuid.UUID]:
    """One partition per shop size and variant, bulk-loaded as the superuser, indexes built
    after. Variants: "inline" keeps the vectors in the heap row (storage PLAIN, where the
    schema's default lets the 1.5 kB vector go to TOAST), "m32" has an HNSW index with
    m 32, ef_construction 256 (the schema's: m 16, ef_construction 128), "distinct" holds
    each distinct chunk body (the text after the context line) once."""

    async def tenants() -> dict[str, uuid.UUID]:
        db = Database(bench.app)
        try:
            out = {}
            for size in sizes:
                for variant in ["", *variants]:
                    low, high = VARIANT_SIZES.get(variant, (0, size))
                    if not low <= size <= high:
                        continue
                    slug = shop_slug(size, variant)
                    out[slug] = (await create_tenant(db, slug, slug)).tenant_id
            return out
        finally:
            await db.dispose()

    shops = asyncio.run(tenants())
    ro_of = {}
    with psycopg.connect(bench.superuser, autocommit=True) as conn:
        for slug, tenant in shops.items():
            doc, ro = uuid.uuid4(), uuid.uuid4()
            conn.execute(
                "INSERT INTO app.documents (doc_id, tenant_id, filename, mime_type, sha256)"
                " VALUES (%s, %s, 'x', 'x', %s)",
                [doc, tenant, uuid.uuid4().bytes * 2],
            )
            conn.execute(
                "INSERT INTO app.repair_orders (ro_id, tenant_id, doc_id, ro_number)"
                " VALUES (%s, %s, %s, '1')",
                [ro, tenant, doc],
            )
            ro_of[tenant] = ro
            if slug.endswith("-inline"):
                conn.execute(
                    f"ALTER TABLE {partition_of(conn, tenant)}"  # shared with other shops
                    " ALTER COLUMN embedding SET STORAGE PLAIN"
                )
        # The full-text posting list is not measured here: its trigger would triple the load.
        conn.execute("ALTER TABLE app.ro_chunks DISABLE TRIGGER ro_chunks_terms")
    bench.drop_indexes()

    def rows() -> Any:
        for slug, tenant in shops.items():
            size = int(slug.split("-")[1])
            seen: set[str] = set()
            for i in range(size):
                kind, content, tokens = chunks[i]
                if slug.endswith("-distinct"):
                    body = content.partition("\n")[2]
                    if body in seen:
                        continue
                    seen.add(body)
                yield tenant, ro_of[tenant], kind, content, vectors[i], model, tokens

    started = time.perf_counter()
    bench.copy_chunks(rows())
    with psycopg.connect(bench.superuser, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.ro_chunks ENABLE TRIGGER ro_chunks_terms")
    print(f"loaded in {time.perf_counter() - started:.0f} s")
    build_indexes(bench, shops)
    return shops


def build_indexes(bench: Any, shops: dict[str, uuid.UUID]) -> None:
    """The schema's indexes, and each shop's graph as the service's job builds it (a partial
    index on the shop's hash partition, `shop_graphs`), so that a variant can have other
    parameters."""
    assert shop_graphs._BUILD.endswith(
        HNSW_INDEX.format(m=16, efc=128) + " WHERE tenant_id = {tenant}"
    ), "the service's HNSW index changed"
    started = time.perf_counter()
    with psycopg.connect(bench.superuser, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for name, how in _helpers.INDEXES.items():
            conn.execute(f"CREATE INDEX {name} ON app.ro_chunks {how}".encode())
        for slug, tenant in shops.items():
            how = HNSW_INDEX.format(
                m=32 if slug.endswith("-m32") else 16, efc=256 if slug.endswith("-m32") else 128
            )
            conn.execute(
                f"CREATE INDEX {shop_graphs.index_name(tenant)} ON {partition_of(conn, tenant)}"
                f" {how} WHERE tenant_id = '{tenant}'".encode()
            )
        conn.execute("ANALYZE app.ro_chunks")
    print(f"indexes built in {time.perf_counter() - started:.0f} s")


def main() -> None:
    logging.configure("WARNING")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--variants",
        nargs="*",
        choices=["inline", "m32", "distinct"],
        default=["inline"],
        help="shops loaded besides the service's own layout",
    )
    parser.add_argument("--all", action="store_true", help="no skipping of failed settings")
    parser.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a kept database, no load")
    args = parser.parse_args()
    priority = os.getpriority(os.PRIO_PROCESS, 0)
    os.nice(10)  # embedding and loading share a small machine
    sizes = sorted(args.sizes)
    started = time.perf_counter()
    bench = Bench(args.reuse)
    try:
        embedder = embedder_for(bench.settings)
        cache = EmbeddingCache(embedder)
        src = Sources.load(args.data)
        questions = generate_questions(src)
        counts = {k: sum(1 for q in questions if q[0] == k) for k in dict(questions)}
        print(
            f"{len(src.recalls):,} recalls with a summary, {len(src.codes):,} trouble codes,"
            f" {len(src.narratives)} narratives (+{len(src.held_out)} held out); questions: "
            + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
        query_vectors = [v.tolist() for v in cache.embed([q for _, q in questions])]
        if args.reuse:
            with psycopg.connect(bench.superuser) as conn:
                shops = {
                    r[0]: r[1] for r in conn.execute("SELECT slug, tenant_id FROM app.tenants")
                }
        else:
            chunks = generate_chunks(src, sizes[-1], embedder.count_tokens)
            bodies = len({c[1].partition("\n")[2] for c in chunks})
            print(
                f"{len(chunks):,} chunks generated, {bodies:,} distinct bodies,"
                f" mean {statistics.fmean(c[2] for c in chunks):.0f} tokens"
            )
            vectors = cache.embed([c[1] for c in chunks])
            shops = load(bench, sizes, chunks, vectors, embedder.model_name, args.variants)
        print(f"ready after {time.perf_counter() - started:.0f} s", flush=True)
        # A niced client measures the scheduler when the machine is busy, not the query.
        with contextlib.suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, priority)
        rows = asyncio.run(measure(bench, shops, sizes, query_vectors, args.all))
        report(rows, sizes)
    finally:
        if args.keep or args.reuse:
            print(f"kept database {bench.name}: rerun with --reuse {bench.name}")
        else:
            bench.drop()
        print(f"total {time.perf_counter() - started:.0f} s")


async def measure(
    bench: Any,
    shops: dict[str, uuid.UUID],
    sizes: list[int],
    vectors: list[list[float]],
    everything: bool,
) -> list[Row]:
    rows: list[Row] = []
    failed: set[str] = set()
    for size in sizes:
        print(f"shop of {size:,} chunks", flush=True)
        settings = [*SETTINGS, proposed(size)]
        skip = set() if everything else failed
        measured = await measure_shop(
            bench.app, shops[shop_slug(size)], size, vectors, settings, skip
        )
        rows += measured
        # HNSW recall only falls as a partition grows: a setting that misses the recall
        # goal here is not measured at the bigger sizes.
        failed |= {r.setting for r in measured if r.setting.startswith("hnsw") and not r.recall_ok}
        extra = {
            "inline": [Setting("exact", "exact"), proposed(size, inline=True)],
            "m32": [hnsw(100), hnsw(400), hnsw(800), proposed(size)],
            "distinct": [hnsw(100), hnsw(400)],
        }
        for variant, chosen in extra.items():
            if shop_slug(size, variant) not in shops:
                continue
            print(f"shop of {size:,} chunks, {VARIANTS[variant]}", flush=True)
            unique = list({s.name: s for s in chosen}.values())
            rows += await measure_shop(
                bench.app,
                shops[shop_slug(size, variant)],
                size,
                vectors,
                unique,
                set(),
                VARIANTS[variant],
            )
    return rows


def report(rows: list[Row], sizes: list[int]) -> None:
    print()
    print(HEADER)
    for row in rows:
        if row.shop == VARIANTS[""] and row.setting == service_now(row.size).name:
            row.setting += " (service now)"
        print(row.markdown(chosen=row.setting.startswith("proposed")))
    print()
    print("cheapest setting meeting the goal (mean >= 0.995, none < 0.9, p95 <= 15 ms):")
    for size in sizes:
        for shop in (VARIANTS[""], VARIANTS["inline"]):
            passing = [
                r
                for r in rows
                if r.size == size and r.shop == shop and r.passes and "proposed" not in r.setting
            ]
            best = min(passing, key=lambda r: percentile(r.ms, 0.95), default=None)
            print(
                f"  {size:>6,} {shop}: "
                + (f"{best.setting} (p95 {percentile(best.ms, 0.95):.1f} ms)" if best else "none")
            )


if __name__ == "__main__":
    main()
