"""Answers with no model configured: the retrieved records' own lines, each with its
citation. Nothing is paraphrased, so nothing can be invented; the answer is labelled
`extractive` in the message's `model`.

The records are quoted by how well their lines match what the question asks about (see
`subject`), and within a record the matching lines come first. A record that only says
which RO it is (a bare header) is left out unless the question is about visits or dates.
When the search was narrowed to one vehicle (or RO) and no retrieved line mentions the
subject, the answer says so in one line and names the vehicle's latest visits found,
rather than quoting lines about something else.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant.chat import subject
from assistant.chat.placeholders import placeholder
from retrieval.search import Hit

MODEL_NAME = "extractive"
NOT_FOUND = "Not found in this shop's records."
MAX_RECORDS = 4
MAX_LINES_PER_RECORD = 3
MAX_VISITS = 3
# Filters (by name, as the search trace lists them) that leave few records: then every hit
# may be quoted. Without one, the vector search always finds *something*, so a hit must
# match the question's own words.
NARROWING = frozenset({"ro_ids", "vin_bidx", "plate_bidx", "model", "technician", "date_from"})
# Those that name one vehicle (or one RO, and so its vehicle).
VEHICLE = frozenset({"ro_ids", "vin_bidx", "plate_bidx", "model"})
_PII_ASKED = {
    "phones": re.compile(r"(?i)\b(phone|cell|call|number to reach)\b"),
    "email": re.compile(r"(?i)\be-?mail\b"),
    "customer_name": re.compile(r"(?i)\b(customer'?s? name|who (?:is|was) the customer|owner)\b"),
    "address": re.compile(r"(?i)\baddress\b"),
    "vin": re.compile(r"(?i)\bvin\b"),
    "license_plate": re.compile(r"(?i)\b(plate|tag number)\b"),
    "payment_method": re.compile(r"(?i)\b(paid|payment|card)\b"),
}
_SUMMARY = re.compile(r"^Line (\w+) (\w+): (.*)$")
_IDENTITY = ("Repair order ", "Vehicle:", "Advisor:")
_WORKED = ("completed", "in_progress")
# A vehicle the question names by VIN or plate that the shop does not have.
_UNKNOWN_VEHICLE = re.compile(r"\[(?:VIN|LICENSE_PLATE)\]")
# Of a record's lines that match equally, the ones telling the story are quoted first.
_STORY = ("Complaint:", "Correction:", "Cause:", "Line ")


@dataclass(frozen=True, slots=True)
class Scope:
    """What the search was narrowed to."""

    narrowed: bool = False
    vehicle: bool = False

    @classmethod
    def of(cls, filters: Collection[str]) -> Scope:
        return cls(narrowed=bool(NARROWING & set(filters)), vehicle=bool(VEHICLE & set(filters)))


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    cited: list[Hit] = field(default_factory=list)


def cite(hit: Hit) -> str:
    return f"[RO {hit.ro_number}" + (f" line {hit.line_letter}]" if hit.line_letter else "]")


@dataclass(slots=True)
class _Record:
    """One hit, read against the question."""

    hit: Hit
    rank: int  # the search's order
    lines: list[str]
    matched: list[frozenset[str]]  # per line: the question's units it shows
    covered: frozenset[str]  # all of them, over the record
    aspects: frozenset[str]

    @classmethod
    def read(cls, hit: Hit, rank: int, asked: subject.Asked) -> _Record:
        lines = [ln.strip() for ln in hit.content.split("\n")[1:] if ln.strip()]
        matched = [asked.matched(ln, hit.line_status) for ln in lines]
        aspects = frozenset(a for ln in lines for a in asked.aspects_of(ln))
        return cls(hit, rank, lines, matched, frozenset().union(*matched), aspects)

    @property
    def header(self) -> bool:
        return self.hit.line_letter is None

    @property
    def main(self) -> bool:
        """Whether the subject is what the job was for (its complaint, labor operation or,
        on a header, a line's summary), not a passing mention ("checked tire pressures")."""
        return any(
            keys and ln.startswith(("Complaint:", "Labor:", "Line "))
            for ln, keys in zip(self.lines, self.matched, strict=True)
        )

    def summaries(self) -> list[tuple[str, str, str]]:
        """A header's (letter, status, summary) per RO line."""
        return [(m[1], m[2], m[3]) for ln in self.lines if (m := _SUMMARY.match(ln))]


def _pii_details(question: str, ro_numbers: Sequence[str]) -> list[str]:
    asked = [f for f, pattern in _PII_ASKED.items() if pattern.search(question)]
    return [
        f"Customer {name.replace('_', ' ')} on RO {ro}: {placeholder(ro, name)}"
        for ro in ro_numbers[:2]
        for name in asked
    ]


def answer(
    question: str,
    hits: Sequence[Hit],
    ro_numbers: Sequence[str],
    scope: Scope = Scope(),
    context: str = "",
    already_said: Collection[tuple[str, str | None]] = (),
) -> Reply:
    """`ro_numbers`: ROs the question names, for a customer detail asked about them.
    `context`: the earlier questions a follow-up leans on; the subject is the follow-up's
    own ("did it come back for brakes?") unless it names none ("what else?").
    `already_said`: (RO, line) the last answer cited, quoted last when the follow-up asks
    for something else ("what else was it in for?")."""
    details = _pii_details(question, ro_numbers)

    def read(text: str) -> subject.Asked:
        return subject.read(
            text,
            [*ro_numbers, *(h.ro_number for h in hits)],
            [h.vehicle for h in hits],
            subject.people(ln for h in hits for ln in h.content.split("\n")),
        )

    asked = read(question)
    if context and not asked.units:
        asked = read(f"{question} {context}")
    records = [_Record.read(h, i, asked) for i, h in enumerate(hits)]
    if not scope.vehicle and _UNKNOWN_VEHICLE.search(question):
        records = []  # nothing on file is about a vehicle the shop does not have
    if ro_numbers and not scope.narrowed:
        # An RO the question names that the shop does not have: nothing else answers it.
        records = [r for r in records if any(n in r.hit.content for n in ro_numbers)]
    if asked.units:
        matching = [r for r in records if r.covered and (scope.narrowed or _enough(r, asked))]
        if not matching and scope.vehicle and records:
            line, visited = _nothing_on(asked, records)
            return Reply("\n".join([*details, line]), visited)
        records = matching
    elif not scope.narrowed:
        records = []  # about nothing in particular, and narrowed to nothing
    if scope.narrowed:
        records.sort(key=lambda r: _order(r, asked))
    else:
        # Across the whole shop the search's order (meaning, words, what the question's
        # names point at) is the better judge; the subject only decides what is quoted.
        records.sort(key=lambda r: r.rank)
    if already_said:
        said = set(already_said)
        said_ros = {ro for ro, _ in said}

        def was_said(r: _Record) -> bool:
            if r.header:  # a visit whose lines were just quoted was just said too
                return r.hit.ro_number in said_ros
            hit = r.hit  # a line was said, or its whole visit was
            return bool({(hit.ro_number, hit.line_letter), (hit.ro_number, None)} & said)

        records.sort(key=was_said)
    bullets: list[str] = []
    cited: list[Hit] = []
    quoted: set[tuple[str, str]] = set()
    for record in records:
        if len(bullets) == MAX_RECORDS:
            break
        hit = record.hit
        if not asked.units and (hit.ro_number, hit.line_letter) in quoted:
            continue  # a visit's header already said what this line was
        chosen = _lines(record, asked, quoted)
        if not chosen:
            continue
        bullets.append(_bullet(record, chosen))
        cited.append(hit)
        quoted |= {(hit.ro_number, m[1]) for ln in chosen if (m := _SUMMARY.match(ln))}
        if hit.line_letter:
            quoted.add((hit.ro_number, hit.line_letter))
    if not bullets:
        return Reply("\n".join(details) if details else NOT_FOUND)
    return Reply("\n".join([*details, "From this shop's records:", *bullets]), cited)


def _enough(record: _Record, asked: subject.Asked) -> bool:
    """Found by the whole shop's search, a record must hold the code, part or op code the
    question names: an identifier matches exactly or not at all."""
    return not asked.identifiers or any(u.key in record.covered for u in asked.identifiers)


def _order(record: _Record, asked: subject.Asked) -> tuple[int, ...]:
    hit = record.hit
    newest_first = asked.recent or (asked.visits and not asked.units)
    day = hit.opened_on.toordinal() if hit.opened_on and newest_first else 0
    # The lines themselves answer a subject; a visit is its header.
    headers_first = asked.visits and not asked.units
    return (
        -len(record.covered),
        0 if hit.line_letter in asked.line_refs else 1,
        -asked.vehicle_match(hit.vehicle),
        0 if record.main else 1,
        -len(record.aspects),
        0 if hit.ro_number in asked.ro_refs else 1,
        -day,
        0 if record.header == headers_first else 1,
        record.rank,
    )


def _lines(record: _Record, asked: subject.Asked, quoted: set[tuple[str, str]]) -> list[str]:
    """The record's lines to quote: those matching the subject (the best ones, in the
    record's order), then one answering an aspect of the question, then context; none when
    nothing of use is left."""
    lines = record.lines
    usable = list(range(len(lines)))
    if record.header:
        # A line already quoted on its own is not repeated in its RO's header.
        usable = [
            i
            for i in usable
            if not ((m := _SUMMARY.match(lines[i])) and (record.hit.ro_number, m[1]) in quoted)
        ]
    matching = sorted(
        (i for i in usable if record.matched[i]),
        key=lambda i: (-len(record.matched[i]), not lines[i].startswith(_STORY)),
    )
    if asked.units and not matching:
        return []
    extra = [i for i in usable if i not in matching and asked.aspects_of(lines[i])]
    if record.header and asked.visits:
        extra += [i for i in usable if i not in extra and lines[i].startswith("Repair order")]
    # Room for one line answering an aspect (who, the parts, the cost) however many match.
    chosen = sorted(matching[: MAX_LINES_PER_RECORD - (1 if extra else 0)])
    chosen += extra[: MAX_LINES_PER_RECORD - len(chosen)]
    rest = [i for i in usable if i not in chosen]
    if record.header:
        # Which RO it is, the vehicle and the advisor are quoted only when asked for (an
        # aspect, or a question about visits): alone they make a bare header, which answers
        # nothing else. What the visit was for comes before who worked on it and the totals.
        rest = [i for i in rest if not lines[i].startswith(_IDENTITY)] if not asked.units else []
        rest.sort(key=lambda i: not lines[i].startswith("Line "))
    else:
        rest.sort(key=lambda i: not lines[i].startswith("Correction"))
    chosen += sorted(rest[: MAX_LINES_PER_RECORD - len(chosen)])
    if record.header and not any(lines[i].startswith("Line ") for i in chosen):
        # A visit is quoted with what it was for, whoever or whatever else was asked.
        summaries = [i for i in usable if lines[i].startswith("Line ")]
        chosen = sorted([*chosen, *summaries[: MAX_LINES_PER_RECORD + 1 - len(chosen)]])
    return [lines[i] for i in chosen]


def _bullet(record: _Record, chosen: list[str]) -> str:
    hit = record.hit
    where = f"RO {hit.ro_number}" + (f" line {hit.line_letter}" if hit.line_letter else "")
    when = hit.opened_on.isoformat() if hit.opened_on else "undated"
    status = f", {hit.line_status}" if hit.line_status else ""
    # A header quoting its lines' summaries cites those lines, so each can be opened.
    # The lines about the subject are cited first; declined or recommended work first of
    # all when that is what was asked.
    about = dict(zip(record.lines, record.matched, strict=True))

    def weight(line: str) -> tuple[bool, int]:
        keys = about.get(line, frozenset())
        return "deferred" not in keys, -len(keys)

    summaries = [] if hit.line_letter else sorted(chosen, key=weight)
    letters = [m[1] for ln in summaries if (m := _SUMMARY.match(ln))]
    cites = " ".join(f"[RO {hit.ro_number} line {letter}]" for letter in letters) or cite(hit)
    return f"- {where} ({when}, {hit.vehicle}{status}): {' '.join(chosen)} {cites}"


@dataclass(slots=True)
class _Visit:
    ro_number: str
    opened_on: date | None
    vehicle: str
    hit: Hit
    jobs: dict[str, str] = field(default_factory=dict)  # line letter -> what was done

    def describe(self) -> str:
        when = self.opened_on.isoformat() if self.opened_on else "undated"
        jobs = "; ".join(list(self.jobs.values())[:2]) or "no lines on file"
        return f"RO {self.ro_number} ({when}, {jobs})"


def _visits(records: Sequence[_Record]) -> list[_Visit]:
    """The ROs among the records, newest first, with what each visit was for."""
    visits: dict[str, _Visit] = {}
    for record in sorted(records, key=lambda r: not r.header):
        hit = record.hit
        visit = visits.setdefault(
            hit.ro_number,
            _Visit(
                hit.ro_number,
                hit.opened_on,
                hit.vehicle,
                dataclasses.replace(hit, line_letter=None),
            ),
        )
        if record.header:
            for letter, status, summary in record.summaries():
                visit.jobs[letter] = summary if status in _WORKED else f"{summary} ({status})"
        elif hit.line_letter and hit.line_letter not in visit.jobs:
            complaint = next((ln for ln in record.lines if ln.startswith("Complaint:")), "")
            job = complaint.removeprefix("Complaint:").strip() or "(no complaint recorded)"
            if hit.line_status not in _WORKED:
                job += f" ({hit.line_status})"
            visit.jobs[hit.line_letter] = job
    for visit in visits.values():
        visit.jobs = dict(sorted(visit.jobs.items(), key=lambda kv: (len(kv[0]), kv[0])))
    return sorted(visits.values(), key=lambda v: v.opened_on or date.min, reverse=True)


def _nothing_on(asked: subject.Asked, records: Sequence[_Record]) -> tuple[str, list[Hit]]:
    """One line: the subject is not in this vehicle's (or RO's) records, and what is."""
    visits = _visits(records)
    named = [v for v in visits if v.ro_number in asked.ro_refs]
    label = asked.label
    if len(named) == 1:
        visit = named[0]
        when = visit.opened_on.isoformat() if visit.opened_on else "undated"
        jobs = "; ".join(f"{k} {v}" for k, v in visit.jobs.items()) or "none on file"
        line = (
            f"No {label} work on file on RO {visit.ro_number} ({when}, {visit.vehicle}); "
            f"its lines: {jobs}."
        )
        return line, [visit.hit]
    vehicles = list(dict.fromkeys(v.vehicle for v in visits))
    which = (
        f"this {vehicles[0]}" if len(vehicles) == 1 else f"these vehicles ({', '.join(vehicles)})"
    )
    shown = visits[:MAX_VISITS]
    lead = "its last visits were" if len(shown) > 1 else "its last visit was"
    if len(vehicles) > 1:
        lead = lead.replace("its", "their")
    line = f"No {label} work on file for {which}; {lead} {', '.join(v.describe() for v in shown)}."
    return line, [v.hit for v in shown]
