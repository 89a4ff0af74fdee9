"""What work an estimate request asks for, and whether a past line did that work.

Words are compared by their Snowball English stems (PostgreSQL's `english_stem`, the
dictionary its full-text search uses), so "brakes", "braking" and "brake" are one word.

A word names work when the shop's own labor or part descriptions use it ("pads", "cabin",
"wiper") or it is in `LEXICON`, the common words for repairs a shop may not have done yet
("caliper", "pinion"). Words for doing something ("replace", "change"), for quantities and
packaging ("set", "kit") and for positions ("front", "rear") name no work on their own.

A request is split into jobs at "and", "plus", "also", ",", ";", "&" and "+", but only where
both sides name work and the two words around the conjunction are not one name: "rack and
pinion" (`COMPOUNDS`) or "pads and rotors" (a phrase of the shop's own descriptions) stay
whole, and so does "front and rear pads", whose left side names no work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TOKEN = re.compile(r"(?i)a/c|[a-z0-9]+|[,;&+]")
CONJUNCTIONS = frozenset({"and", "plus", "also", ",", ";", "&", "+"})
POSITIONS = _listed("front rear left right upper lower inner outer inside outside driver passenger")
GENERIC = _listed(
    # doing something, asking for a price, quantities and packaging
    "replace replacement replacing change changed changing install installed installation"
    " repair repaired fix fixed service serviced servicing new do done perform performed"
    " check checked inspect inspected test tested diagnose diagnosed diagnosis get need"
    " needs want estimate quote price priced cost much job work set kit pair assembly"
    " complete full with without remanufactured direct fit qt gal oz unit both all two"
    " four one each per car vehicle truck customer please"
)
LEXICON = _listed(
    "brake pad rotor caliper drum shoe hose line fluid flush bleed abs"
    " oil filter lube tire tyre wheel rotation rotate alignment balance mount patch plug"
    " valve stem tpms battery alternator starter charging spark coil injector fuel pump"
    " timing belt chain tensioner pulley idler water coolant radiator thermostat heater"
    " core fan ac compressor condenser evaporator refrigerant recharge transmission"
    " clutch flywheel differential axle cv driveshaft joint bearing hub strut shock spring"
    " sway link control arm ball tie rod rack pinion steering suspension bushing exhaust"
    " muffler catalytic converter manifold gasket head seal sensor oxygen wiper blade"
    " headlight headlamp bulb lamp light fuse relay wiring harness module airbag recall"
    " engine motor window regulator door lock mirror windshield glass horn key fob"
    " emissions smog inspection tuneup tune throttle intake egr evap canister purge"
    " cabin air washer diagnostic"
)
COMPOUNDS = (
    ("rack", "pinion"),
    ("pads", "rotors"),
    ("rotors", "pads"),
    ("shoes", "drums"),
    ("drums", "shoes"),
    ("oil", "filter"),
    ("shocks", "struts"),
    ("struts", "shocks"),
    ("nuts", "bolts"),
    ("mount", "balance"),
)


@dataclass(frozen=True, slots=True)
class Token:
    word: str  # lower case; "a/c" reads "ac"
    start: int
    end: int

    @property
    def conjunction(self) -> bool:
        return self.word in CONJUNCTIONS


def tokens(text: str) -> list[Token]:
    return [
        Token("ac" if m.group(0).lower() == "a/c" else m.group(0).lower(), m.start(), m.end())
        for m in _TOKEN.finditer(text)
    ]


def words_of(texts: Iterable[str]) -> set[str]:
    return {t.word for text in texts for t in tokens(text) if not t.conjunction}


def vocabulary_words(descriptions: Iterable[str]) -> set[str]:
    """Every word whose stem the vocabulary needs, besides the request's own."""
    fixed = POSITIONS | GENERIC | LEXICON | {w for pair in COMPOUNDS for w in pair}
    return words_of(descriptions) | fixed


@dataclass(frozen=True, slots=True)
class Vocabulary:
    stems: Mapping[str, str | None]  # word -> stem; None for a stop word
    work: frozenset[str]
    positions: frozenset[str]
    actions: frozenset[str]
    compounds: frozenset[tuple[str, str]]

    @classmethod
    def build(cls, stems: Mapping[str, str | None], descriptions: Iterable[str]) -> Vocabulary:
        def stemmed(words: Iterable[str]) -> frozenset[str]:
            return frozenset(s for w in words if (s := stems.get(w)))

        descriptions = list(descriptions)
        positions, actions = stemmed(POSITIONS), stemmed(GENERIC)
        named = stemmed(w for w in words_of(descriptions) if _wordlike(w)) | stemmed(LEXICON)
        pairs = {(stems.get(a), stems.get(b)) for a, b in COMPOUNDS}
        for text in descriptions:
            found = tokens(text)
            pairs |= {
                _around(stems, found[:i], found[i + 1 :])
                for i, token in enumerate(found)
                if token.conjunction
            }
        return cls(
            stems,
            named - positions - actions,
            positions,
            actions,
            frozenset((a, b) for a, b in pairs if a and b),
        )

    def stem(self, word: str) -> str | None:
        return self.stems.get(word)

    def stems_of(self, text: str) -> set[str]:
        return {s for t in tokens(text) if (s := self.stem(t.word))}


def _wordlike(word: str) -> bool:
    return len(word) > 1 and not any(c.isdigit() for c in word)


def _around(
    stems: Mapping[str, str | None], before: list[Token], after: list[Token]
) -> tuple[str | None, str | None]:
    """The stems of the nearest words either side of a conjunction, skipping stop words."""

    def nearest(found: Iterable[Token]) -> str | None:
        for token in found:
            if token.conjunction:
                return None
            if stem := stems.get(token.word):
                return stem
        return None

    return nearest(reversed(before)), nearest(after)


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of work asked for: `asked` is its words as typed ("front pads")."""

    asked: str
    work: frozenset[str]  # the stems every line priced for it must name
    positions: frozenset[str]


def asked_jobs(text: str, vocabulary: Vocabulary, vehicle_words: Iterable[str] = ()) -> list[Job]:
    """The jobs a request names, in its order; [] when it names no recognisable work.
    `vehicle_words` (the make and model) never count as work."""
    not_work = {s for w in vehicle_words for t in tokens(w) if (s := vocabulary.stem(t.word))}

    def kind(token: Token) -> str:
        stem = vocabulary.stem(token.word)
        if token.conjunction or not stem or not _wordlike(token.word):
            return ""
        if stem in vocabulary.positions:
            return "position"
        if stem in vocabulary.actions:
            return "action"
        return "work" if stem in vocabulary.work and stem not in not_work else ""

    def names_work(group: list[Token]) -> bool:
        return any(kind(t) == "work" for t in group)

    segments: list[list[Token]] = [[]]
    boundaries: list[Token] = []
    for token in tokens(text):
        if not token.conjunction:
            segments[-1].append(token)
        elif segments[-1]:  # ", and" or "and also" is one boundary
            boundaries.append(token)
            segments.append([])
    if not segments[-1]:
        segments.pop()
    groups = segments[:1]
    for boundary, segment in zip(boundaries, segments[1:], strict=False):
        whole = _around(vocabulary.stems, groups[-1], segment) in vocabulary.compounds
        if names_work(groups[-1]) and names_work(segment) and not whole:
            groups.append(segment)
        else:
            groups[-1] = [*groups[-1], boundary, *segment]
    jobs: dict[tuple[frozenset[str], frozenset[str]], Job] = {}
    for group in groups:
        if not names_work(group):
            continue
        kinds = [kind(t) for t in group]
        named = [i for i, k in enumerate(kinds) if k in ("work", "position")]
        first, last = named[0], named[-1]
        if kinds[last + 1 : last + 2] == ["action"]:  # "oil change", "brake job"
            last += 1
        work = frozenset(vocabulary.stems[t.word] or "" for t in group if kind(t) == "work")
        positions = frozenset(
            vocabulary.stems[t.word] or "" for t in group if kind(t) == "position"
        )
        asked = " ".join(text[group[first].start : group[last].end].split())
        jobs.setdefault((work, positions), Job(asked, work, positions))
    return list(jobs.values())


def did(job: Job, vocabulary: Vocabulary, charged: str, correction: str) -> bool:
    """Whether a past line did the job. `charged` is its labor and part descriptions (what
    was billed), `correction` what the technician wrote was done.

    Every word of the job must be among the line's words, and at least one among what was
    billed: the work itself must have been charged, so a line that only mentions a brake
    hose while fixing a vacuum leak is no brake job. A position the job names ("front") must
    not be contradicted by the billed items naming only others ("rear pads and rotors").
    """
    billed = vocabulary.stems_of(charged)
    if not (job.work & billed) or not job.work <= billed | vocabulary.stems_of(correction):
        return False
    sides = billed & vocabulary.positions
    return not (job.positions and sides and not job.positions & sides)
