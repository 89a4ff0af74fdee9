"""The data behind the stories, read once from `data/` (sources and licenses in its README).

Real trouble codes (OBDex), recall summaries and complaint narratives (NHTSA) are paired
with the project's own job catalog (`stories.toml`). A trouble code's common causes are
mapped to the repair a technician would actually perform, so a cause/correction pair reads
like that code's real-world diagnosis; causes with no believable shop repair are dropped.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

_DATA = resources.files("assistant.demo") / "data"

Op = tuple[str, str, float]
PartUse = tuple[str, int]


def _rows(name: str) -> list[dict[str, str]]:
    text = (_DATA / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _stories() -> dict[str, Any]:
    return tomllib.loads((_DATA / "stories.toml").read_text(encoding="utf-8"))


def _op(raw: list[Any]) -> Op:
    return (str(raw[0]), str(raw[1]), float(raw[2]))


def _parts(raw: list[list[Any]]) -> tuple[PartUse, ...]:
    return tuple((str(kind), int(qty)) for kind, qty in raw)


@dataclass(frozen=True, slots=True)
class Job:
    key: str
    category: str
    weight: int
    ops: tuple[Op, ...]
    parts: tuple[PartUse, ...]
    complaints: tuple[str, ...]
    causes: tuple[str, ...]
    corrections: tuple[str, ...]
    finding: str
    advice: str
    fluids: bool
    tires: int
    summer: bool
    winter: bool


@functools.cache
def jobs() -> dict[str, Job]:
    """The shop's menu of jobs; NHTSA complaint narratives join the concerns they match."""
    narratives = complaints()
    found = {}
    for raw in _stories()["job"]:
        extra = narratives.get(raw["key"], ())
        found[raw["key"]] = Job(
            key=raw["key"],
            category=raw["category"],
            weight=int(raw["weight"]),
            ops=tuple(_op(op) for op in raw["ops"]),
            parts=_parts(raw["parts"]),
            complaints=tuple(raw["complaints"]) + extra,
            causes=tuple(raw["causes"]),
            corrections=tuple(raw["corrections"]),
            finding=raw.get("finding", ""),
            advice=raw.get("advice", ""),
            fluids=bool(raw.get("fluids", False)),
            tires=int(raw.get("tires", 0)),
            summer=bool(raw.get("summer", False)),
            winter=bool(raw.get("winter", False)),
        )
    return found


@dataclass(frozen=True, slots=True)
class Fix:
    op: Op
    parts: tuple[PartUse, ...]
    test: str
    action: str
    major: bool


@dataclass(frozen=True, slots=True)
class TroubleCode:
    code: str
    title: str
    family: str
    complaints: tuple[str, ...]
    causes: tuple[tuple[str, int, Fix], ...]


_LIKELIHOOD = {"high": 5, "medium": 3, "low": 1}
_SENSOR_CAUSE = re.compile(r"^sensor (failed|drifting)", re.IGNORECASE)
_SENSOR_TEST = "Sensor signal erratic on the graphing meter; wiring checks good end to end."


def _fix(raw: dict[str, Any]) -> Fix:
    return Fix(
        op=_op(raw["op"]),
        parts=_parts(raw["parts"]),
        test=raw.get("test", _SENSOR_TEST),
        action=raw["action"],
        major=bool(raw.get("major", False)),
    )


@functools.cache
def _fixes() -> tuple[tuple[re.Pattern[str], Fix], ...]:
    return tuple(
        (re.compile(raw["match"], re.IGNORECASE), _fix(raw)) for raw in _stories()["dtc_fix"]
    )


@functools.cache
def _sensor_fixes() -> dict[str, Fix]:
    return {name: _fix(raw) for name, raw in _stories()["sensor_fix"].items()}


def _resolve(cause: str, components: list[str]) -> Fix | None:
    if _SENSOR_CAUSE.search(cause):
        sensors = _sensor_fixes()
        return next((sensors[c] for c in components if c in sensors), None)
    return next((fix for pattern, fix in _fixes() if pattern.search(cause)), None)


def _family(code: str) -> tuple[str, tuple[str, ...]]:
    stall = complaints().get("stall", ())
    for name, raw in _stories()["dtc_family"].items():
        if re.search(raw["codes"], code):
            return name, tuple(raw["complaints"]) + (stall if raw.get("stall") else ())
    raise LookupError(code)


@functools.cache
def trouble_codes() -> tuple[TroubleCode, ...]:
    """Codes from the OBDex extract whose causes map to a repair, with likelihood weights."""
    codes = []
    for row in _rows("dtc_codes.csv"):
        components = row["affected_components"].split(";")
        causes = []
        for item in row["common_causes_en"].split(";"):
            text, _, weight = item.strip().rpartition(" (")
            fix = _resolve(text, components)
            if fix is not None:
                causes.append((text, _LIKELIHOOD.get(weight.rstrip(")"), 1), fix))
        if causes:
            family, concerns = _family(row["code"])
            codes.append(TroubleCode(row["code"], row["title_en"], family, concerns, tuple(causes)))
    return tuple(codes)


@dataclass(frozen=True, slots=True)
class Recall:
    campaign: str
    years: frozenset[int]
    summary: str
    remedy: str
    part: str
    hours: float


def _remedy(summary: str) -> tuple[str, str, float]:
    for raw in _stories()["recall_remedy"]:
        if re.search(raw["match"], summary, re.IGNORECASE):
            return raw["remedy"], raw["part"], float(raw["hours"])
    return "performed the inspection and remedy per the campaign bulletin", "", 1.0


@functools.cache
def recalls() -> dict[tuple[str, str], tuple[Recall, ...]]:
    """Real NHTSA campaigns keyed by (MAKE, MODEL) as NHTSA spells them."""
    found: dict[tuple[str, str], list[Recall]] = {}
    for row in _rows("nhtsa_recalls.csv"):
        remedy, part, hours = _remedy(row["summary"])
        years = frozenset(int(y) for y in row["model_years"].split())
        recall = Recall(row["nhtsa_id"], years, row["summary"], remedy, part, hours)
        found.setdefault((row["make"], row["model"]), []).append(recall)
    return {key: tuple(value) for key, value in found.items()}


@functools.cache
def complaints() -> dict[str, tuple[str, ...]]:
    """Customer concerns adapted from the NHTSA complaints sample, by job key."""
    found: dict[str, list[str]] = {}
    for row in _rows("nhtsa_complaints.csv"):
        found.setdefault(row["category"], []).append(row["complaint"])
    return {key: tuple(value) for key, value in found.items()}
