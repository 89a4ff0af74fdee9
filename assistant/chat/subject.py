"""What a question asks about, as the extractive answerer reads it: the subject (a symptom,
code, job or part) that a record's line must mention to answer it, and the aspects (who,
what it cost, the parts, the dates) that say which of a record's lines to quote first.

Words are compared by a light suffix-stripping stem ("brakes", "braking" -> "brak"), shop
shorthand is spelled out ("lof" -> oil, "batt" -> battery), and a few things technicians
name many ways are one concept each: a check-engine light is also a CEL, a MIL, a DTC or
any trouble code such as P0420; declined work is also "recs", "put off", "turned down"; a
vibration is also a shake, shimmy or pulsation. Codes, part numbers and op codes are
identifiers: they match exactly or not at all. Words that only name the vehicle (its
year, make, model, colour), the RO or the request itself ("what did we do", "history")
are not the subject.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from retrieval import query, spelling

DEFERRED_STATUSES = frozenset({"declined", "recommended"})


@dataclass(frozen=True, slots=True)
class Concept:
    name: str
    asked: re.Pattern[str]  # how a question names it
    shown: re.Pattern[str]  # how a record's line shows it
    label: str = ""  # "" -> the words the question used


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w/])(?:" + pattern + r")(?![\w/])")


_CODE = r"[pbcu][0-3][0-9a-f]{3}"
_CHECK_ENGINE_NAMES = (
    r"check[\s-]*engine(?:\s+light)?|engine\s+light|cel|mil|ces|service\s+engine\s+soon"
    r"|dtcs?|(?:trouble|fault|diagnostic)\s+codes?"
)


def _either_way(name: str, pattern: str, label: str = "") -> Concept:
    """A concept named the same ways in questions and in records."""
    compiled = _words(pattern)
    return Concept(name, compiled, compiled, label)


CONCEPTS = (
    Concept(
        "check_engine",
        # "codes" alone too, but not an op code or a zip code
        _words(_CHECK_ENGINE_NAMES + r"|(?<!op\s)(?<!zip\s)codes?"),
        _words(_CHECK_ENGINE_NAMES + r"|codes?|" + _CODE),
    ),
    Concept(
        "deferred",
        _words(
            r"declin\w*|recomm?end\w*|recs|turn(?:ed)?\s+down|put\s+off|defer\w*|postpon\w*"
            r"|pass(?:ed)?\s+on|waived?"
        ),
        # a header shows a line's status in its summary; a line chunk matches by its status
        re.compile(r"^line \w+ (?:declined|recommended):"),
        "declined or recommended",
    ),
    _either_way("vibration", r"shak\w*|shimm\w*|vibrat\w*|pulsat\w*|wobbl\w*|judder\w*|shudder\w*"),
    _either_way("stall", r"stall\w*|dies|died|dying|cuts?\s+out"),
    _either_way(
        "no_start",
        r"no[\s-]+start\w*|(?:won'?t|doesn'?t|does\s+not|will\s+not|not)\s+start\w*"
        r"|hard[\s-]+start\w*|(?:problems?|trouble)\s+starting",
    ),
    _either_way("ac", r"ac|air[\s-]+condition\w*|air\s+con", "A/C"),
    _either_way("headlamp", r"head[\s-]*(?:light|lite|lamp)s?", "headlight"),
    _either_way("pull", r"pull(?:s|ing)?\s+(?:to\s+(?:the\s+)?)?(?:right|left)", "pulling"),
)
_BY_NAME = {c.name: c for c in CONCEPTS}

# Shop shorthand, spelled out before stemming.
_SHORTHAND = {
    "lof": "oil",
    "lube": "oil",
    "batt": "battery",
    "diag": "diagnosis",
    "diags": "diagnosis",
    "trans": "transmission",
    "tranny": "transmission",
    "tyre": "tire",
    "tyres": "tire",
    "antifreeze": "coolant",
}

# Which lines of a record answer an aspect of the question.
_ASPECT_WORDS = {
    "tech": ("who", "tech", "techs", "technician", "technicians", "mechanic"),
    "parts": ("part", "parts"),
    "labor": ("labor", "labour", "hours", "hrs"),
    "cost": ("cost", "costs", "charge", "charged", "price", "priced", "much"),
    "total": ("total", "totals", "bill", "invoice"),
    "complaint": ("complaint", "concern", "symptom", "symptoms", "states"),
    "cause": ("cause", "caused", "find", "found", "finding", "findings", "why", "wrong"),
    "correction": (
        *("fix", "fixed", "fixes", "repair", "repaired", "repairs", "correction"),
        *("replace", "replaced", "replacement", "swap", "swapped", "remedy", "resolved"),
    ),
    "dates": ("date", "dates", "opened", "closed", "status"),
    "mileage": ("mileage", "miles", "odometer"),
    "advisor": ("advisor", "writer"),
}
ASPECT_OF = {word: aspect for aspect, words in _ASPECT_WORDS.items() for word in words}
_ASPECT_LINES = {
    "tech": ("labor:", "technicians:"),
    "parts": ("part:",),
    "labor": ("labor:",),
    "cost": ("labor:", "part:", "totals:"),
    "total": ("totals:",),
    "complaint": ("complaint:",),
    "cause": ("cause:",),
    "correction": ("correction:",),
    "dates": ("repair order",),
    "mileage": ("vehicle:",),
    "advisor": ("advisor:",),
}

# Words that ask, point or fill rather than name a subject.
_NOT_SUBJECT_WORDS = """
a about again ago all also am an and any anyone anything are as ask asked asking at auto
back be been before being but by call calls came can car card cars cell check checked
come contact could customer customers day days describe detail details did do does doing
done else email ever every everything explain far file for from get give go going got
had happen happened has have he her here hey him his history how i if in info
information into is it its job jobs just know last latest let lic license like line
lines list lit long look looking mail many me month months my name need needs new next
no not note notes nothing now number numbers of on one ones op opcode opcodes ops or
order other our ours out over overview owner paid past payment phone plate plates please
pls plz previous prior pull pulled put quick reach recap recent recently record records
ro ros rundown said same saw say says see seen service serviced services she show since
so some something still story summary suv tag tell text than thanks that the their them
then there these they thing things this those time times to today told truck up us use
used using van vehicle vehicles vin vins visit visits was we week weeks went were what
whats when where which while whole whom will with work worked working works would write
writeup written wrote year years you your
"""
_NOT_SUBJECT = frozenset(_NOT_SUBJECT_WORDS.split())
# Long request words, also when mistyped ("histroy"): a subject word is never one letter
# away from one of these.
_TYPO_PRONE = frozenset(
    (
        *("anything", "customer", "details", "everything", "happened", "history"),
        *("information", "previous", "records", "service", "vehicle"),
    )
)
_COLOUR_WORDS = """
beige black blue brown burgundy champagne charcoal dark gold gray green grey maroon orange
pearl purple red silver tan white yellow
"""
_COLOURS = frozenset(_COLOUR_WORDS.split())
# Dates are the search's filters, never the subject.
_DATE_WORDS = frozenset(
    {m.lower() for m in (*calendar.month_name, *calendar.month_abbr, *calendar.day_name) if m}
    | {"sept", "tues", "thurs", "week", "weekend", "yesterday", "tomorrow", "morning"}
)
_VISITS = re.compile(
    r"(?i)\b(when\s+(?:was|were|did|is)|last\s+(?:time|visit|in|here|seen)|how\s+many\s+"
    r"(?:visits|times)|how\s+long\s+since|how\s+often|visits?|history|been\s+in|came\s+in"
    r"|come\s+in|dates?)\b"
)
_RECENT = re.compile(r"(?i)\b(last|latest|most\s+recent|recent(?:ly)?|newest)\b")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_MILES = re.compile(r"^\d+k$")
_WORD = re.compile(r"[a-z][a-z0-9']*")
_SUFFIXES = (
    *("ments", "ment", "ings", "ing", "ions", "ion", "ies", "ied"),
    *("ed", "es", "is", "s", "e", "y"),
)


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """One suffix stripped, then a final "e", keeping three letters: "replacement",
    "replaced", "replacing", "replace" -> "replac"; "brakes", "braking" -> "brak"."""
    word = _SHORTHAND.get(word, word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                break
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def normalise(text: str) -> str:
    """Lower case, with shop shorthand for sides and systems spelled out ("r/pads", "a/c")."""
    text = text.lower()
    text = re.sub(r"(?<![\w/])a/c(?![\w/])", "ac", text)
    text = re.sub(r"(?<![\w/])f/(?=[a-z])", "front ", text)
    text = re.sub(r"(?<![\w/])r/(?=[a-z])", "rear ", text)
    return re.sub(r"(?<![\w/])w/o?(?![\w/])", " ", text)


def compact(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


@lru_cache(maxsize=8192)
def line_stems(line: str) -> frozenset[str]:
    return frozenset(stem(w.removesuffix("'s")) for w in _WORD.findall(normalise(line)))


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing the question asks about: a word's stem, a concept or an identifier."""

    key: str
    kind: Literal["word", "concept", "identifier"]
    label: str
    at: int  # where the question names it, for the label's word order


@dataclass(frozen=True, slots=True)
class Asked:
    units: tuple[Unit, ...] = ()
    aspects: frozenset[str] = frozenset()
    ro_refs: frozenset[str] = frozenset()  # RO numbers the question names
    line_refs: frozenset[str] = frozenset()  # line letters it names ("line b")
    vehicle: frozenset[str] = frozenset()  # the words naming its vehicle, as `vehicle_terms`
    visits: bool = False  # about visits or dates: a bare RO header answers it
    recent: bool = False  # the last, latest, most recent one

    @property
    def identifiers(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.kind == "identifier")

    @property
    def label(self) -> str:
        return " ".join(u.label for u in sorted(self.units, key=lambda u: u.at))

    def matched(self, line: str, status: str | None = None) -> frozenset[str]:
        """The keys of this question's units that `line` shows."""
        lowered = normalise(line)
        stems = line_stems(line)
        found = set()
        for unit in self.units:
            if unit.kind == "word":
                hit = unit.key in stems
            elif unit.kind == "concept":
                hit = bool(_BY_NAME[unit.key].shown.search(lowered)) or (
                    unit.key == "deferred" and status in DEFERRED_STATUSES
                )
            else:
                hit = _identifier(unit.key).search(line) is not None
            if hit:
                found.add(unit.key)
        return frozenset(found)

    def aspects_of(self, line: str) -> frozenset[str]:
        lowered = line.lower()
        return frozenset(
            a for a in self.aspects if any(lowered.startswith(p) for p in _ASPECT_LINES[a])
        )

    def vehicle_match(self, vehicle: str) -> int:
        """How many of the words naming the question's vehicle name this one."""
        return len(self.vehicle & vehicle_terms(vehicle))


@lru_cache(maxsize=1024)
def _identifier(token: str) -> re.Pattern[str]:
    return re.compile(r"(?i)(?<![\w\-])" + re.escape(token) + r"(?![\w\-])")


@lru_cache(maxsize=1024)
def vehicle_terms(vehicle: str) -> frozenset[str]:
    """ "2018 Ford F-150" -> its words' stems and run-together forms: 2018, ford, f, f150."""
    words = vehicle.lower().split()
    return frozenset(
        {compact(w) for w in words} | {stem(w) for word in words for w in _WORD.findall(word)}
    )


def _typo_of(word: str, known: frozenset[str]) -> bool:
    return any(spelling.one_typo_apart(word, other) for other in known)


_PERSON = re.compile(r"\b([A-Z][a-z'\-]+(?: [A-Z][a-z'\-]+)+) \(")


def people(lines: Iterable[str]) -> frozenset[str]:
    """The words of the names records give technicians and advisors ("Lena Park (214)")."""
    return frozenset(
        word.lower()
        for line in lines
        if line.startswith(("Labor:", "Technicians:", "Advisor:"))
        for name in _PERSON.findall(line)
        for word in name.split()
    )


def _before_vehicle(question: str, end: int, known: frozenset[str]) -> bool:
    """Whether the word after `end` names a vehicle: "2019 civic" is a vehicle's year, "in
    june 2024" a date."""
    following = _WORD.match(question[end:].lstrip().lower())
    return following is not None and stem(following[0]) in known


_RO_PREFIX = re.compile(r"(?i)^(?:ro|r\.o\.)#?")
_LINE_REF = re.compile(r"(?i)\bline\s+([a-z]{1,2})\b")


def read(
    question: str,
    ro_numbers: Iterable[str] = (),
    vehicles: Iterable[str] = (),
    people: frozenset[str] = frozenset(),
) -> Asked:
    """`ro_numbers`: the ROs the question names or that were retrieved (an RO number is
    the scope, not the subject); `vehicles` and `people`: the retrieved records' vehicles
    and the words of their technicians' and advisors' names."""
    ros = frozenset(ro_numbers)
    known = frozenset().union(*(vehicle_terms(v) for v in vehicles))
    units: dict[str, Unit] = {}
    refs: set[str] = set()
    vehicle: set[str] = set()
    blanked = list(question)
    for m in query.CODE_TOKEN.finditer(question):
        token = m.group(1) or m.group(2)
        start = m.start(1) if m.group(1) else m.start(2)
        blanked[start : start + len(token)] = " " * len(token)
        after = question[m.end() : m.end() + 8].lower()
        if _RO_PREFIX.sub("", token) in ros:
            refs.add(_RO_PREFIX.sub("", token))
        elif compact(token) in known and not (
            _YEAR.match(token) and not _before_vehicle(question, m.end(), known)
        ):
            vehicle.add(compact(token))  # a year only right before a make or model: else a date
        elif not (
            _YEAR.match(token)
            or _MILES.match(token.lower())
            or re.match(r"\s*(?:mi|miles?)\b", after)
        ):
            units.setdefault(token.upper(), Unit(token.upper(), "identifier", token, start))
    text = normalise("".join(blanked))
    for concept in CONCEPTS:
        for m in concept.asked.finditer(text):
            label = concept.label or m.group(0)
            if concept.name == "check_engine":
                label = "trouble-code" if re.search(r"code|dtc", m.group(0)) else "check-engine"
            units.setdefault(concept.name, Unit(concept.name, "concept", label, m.start()))
            text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]
    aspects: set[str] = set()
    for m in _WORD.finditer(text):
        word = m.group(0).removesuffix("'s")
        key = stem(word)
        if word in _DATE_WORDS:
            continue
        if word in people and not ({key, compact(word), word.removesuffix("s")} & known):
            # Someone's name ("what did Miles do"), whatever the word means otherwise.
            units.setdefault(key, Unit(key, "word", word, m.start()))
        elif word in ASPECT_OF:
            aspects.add(ASPECT_OF[word])
        elif forms := {key, compact(word), word.removesuffix("s")} & known:
            vehicle |= forms  # "santa fes": plural of a vehicle
        elif not (
            len(word) < 3 or word in _NOT_SUBJECT or word in _COLOURS or _typo_of(word, _TYPO_PRONE)
        ):
            units.setdefault(key, Unit(key, "word", word, m.start()))
    return Asked(
        units=tuple(units.values()),
        aspects=frozenset(aspects),
        ro_refs=frozenset(refs),
        line_refs=frozenset(m.upper() for m in _LINE_REF.findall(question)),
        vehicle=frozenset(vehicle),
        visits=bool(_VISITS.search(question)),
        recent=bool(_RECENT.search(question)),
    )
