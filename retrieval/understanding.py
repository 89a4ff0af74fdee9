"""What a question names in this shop's own terms: a vehicle it has serviced, a technician,
a month or year, an RO number or plate typed bare.

Only what is unambiguous and confirmed by the shop's data becomes a filter: an RO number
that exists, a plate on file, a vehicle named with make and model (or year and model)
together. Everything else (a model or make named alone, a technician, a month) is a signal
that ranks matching ROs up and never removes one: real catalogues are full of models and
surnames that are ordinary words (Escape, Impact, Park, Miles).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from retrieval import shop_facts, spelling
from retrieval.query import ParsedQuestion
from retrieval.search import Filters, Signals

CATALOG_TTL_S = 300.0
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}
_MONTH_YEAR = re.compile(
    r"(?i)\b("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?\s+(?:of\s+)?((?:19|20)\d\d)\b"
)
_A_YEAR = re.compile(r"(?i)\b(?:a|an|the)\s+((?:19|20)\d\d)\b")
# "the gold one", "a black truck"; not "going black" or "white smoke"
_A_COLOR = r"(?i)\b(?:the|a|an)\s+{}\s+(?:one|car|truck|van|suv|vehicle|coach|trailer)\b"
_YEAR_IN = re.compile(r"(?i)\b(?:in|during|since|from|for|of|year)\s+((?:19|20)\d\d)\b")
_VEHICLE_YEAR = re.compile(r"(?i)(?:\b((?:19|20)\d\d)|'(\d\d))\b")
_BARE_NUMBER = re.compile(r"(?<![\w\-/.])#?(\d{4,8})(?![\w\-/.])")
_PLATE_LIKE = re.compile(
    r"(?i)(?<![\w\-])([a-z]{2,4}[\s\-]?\d{3,4}|\d[a-z]{3}\d{3}|"
    r"[a-z]{3}\d{4}|\d{3}[\s\-]?[a-z]{3})(?![\w\-])"
)
_TECH_CODE = re.compile(r"(?i)\b(?:tech|technician)\s*#?\s*(\d{2,5})\b")


@dataclass(frozen=True, slots=True)
class Catalog:
    """The shop's vehicles and technicians, as its own ROs name them."""

    # "cougar" -> (("Keystone", "Cougar"), ("Mercury", "Cougar")): a model name is not unique
    models: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    makes: dict[str, str] = field(default_factory=dict)
    colors: frozenset[str] = frozenset()
    technicians: dict[str, str] = field(default_factory=dict)  # name or surname -> code


@dataclass(frozen=True, slots=True)
class Understood:
    filters: Filters
    signals: Signals = field(default_factory=Signals)


_catalogs: shop_facts.Fact[Catalog] = shop_facts.Fact(CATALOG_TTL_S)


async def catalog(session: AsyncSession, tenant_id: UUID) -> Catalog:
    cached = _catalogs.get(tenant_id)
    if cached is not None:
        return cached
    vehicles = (
        await session.execute(
            text(
                "SELECT DISTINCT vehicle_make, vehicle_model, vehicle_color FROM app.repair_orders"
                " WHERE tenant_id = :t AND vehicle_model IS NOT NULL"
            ),
            {"t": tenant_id},
        )
    ).all()
    techs = (
        await session.execute(
            text(
                "SELECT DISTINCT technician_name, technician_code FROM app.ro_labor_lines"
                " WHERE tenant_id = :t AND technician_name IS NOT NULL"
                " AND technician_code IS NOT NULL"
            ),
            {"t": tenant_id},
        )
    ).all()
    technicians: dict[str, str] = {}
    surnames: dict[str, set[str]] = {}
    for name, code in techs:
        technicians[name.lower()] = code
        surnames.setdefault(name.split()[-1].lower(), set()).add(code)
    technicians |= {s: next(iter(c)) for s, c in surnames.items() if len(c) == 1 and len(s) > 2}
    models: dict[str, dict[tuple[str, str], None]] = {}
    for make, model, _ in vehicles:
        models.setdefault(str(model).lower(), {})[(str(make or ""), str(model))] = None
    result = Catalog(
        models={name: tuple(pairs) for name, pairs in models.items()},
        makes={str(make).lower(): str(make) for make, _, _ in vehicles if make},
        colors=frozenset(str(color).lower() for _, _, color in vehicles if color),
        technicians=technicians,
    )
    return _catalogs.put(tenant_id, result)


def _mentions(text: str, phrase: str) -> re.Match[str] | None:
    return re.search(
        r"(?i)(?<![\w])" + re.escape(phrase).replace(r"\ ", r"[\s\-]?") + r"(?![\w])", text
    )


@dataclass(frozen=True, slots=True)
class VehicleMention:
    model: str
    makes: tuple[str, ...]  # every make of the shop's with this model, the named one first
    make_named: bool
    year: int | None
    color: str | None


def vehicle_mention(text: str, cat: Catalog) -> VehicleMention | None:
    """The shop's model the question names (the longest name found), with the make, year and
    colour the question gives with it."""
    found = [
        (m, name)
        for name in sorted(cat.models, key=len, reverse=True)
        if len(name) >= 2 and (m := _mentions(text, name))
    ]
    if not found:
        return None
    match, name = found[0]
    pairs = cat.models[name]
    named = [make for make, _ in pairs if make and _mentions(text, make)]
    makes = tuple(dict.fromkeys([*named, *(make for make, _ in pairs)]))
    before = text[max(0, match.start() - 40) : match.start()]
    year: int | None = None
    years = list(_VEHICLE_YEAR.finditer(before))
    if years:
        full, short = years[-1].groups()
        year = int(full) if full else 2000 + int(short)
    colors = [c for c in cat.colors if re.search(r"(?i)\b" + re.escape(c) + r"\b", before)]
    return VehicleMention(
        model=pairs[0][1],
        makes=makes,
        make_named=bool(named),
        year=year,
        color=max(colors, key=len) if colors else None,  # "pearl white", not "white"
    )


def vehicle_filters(text: str, cat: Catalog) -> dict[str, object]:
    """A vehicle the question names unambiguously (make and model, or year and model), as
    filters; a model named alone is only a signal (see `read_signals`)."""
    mention = vehicle_mention(text, cat)
    if mention is None or not (mention.make_named or mention.year is not None):
        return {}
    out: dict[str, object] = {"model": mention.model}
    if mention.make_named:
        out["make"] = mention.makes[0]
    if mention.year is not None:
        out["year"] = mention.year
    return out


def date_range(text: str, vehicle_year: int | None) -> tuple[date, date] | None:
    m = _MONTH_YEAR.search(text)
    if m:
        month, year = _MONTHS[m.group(1).lower()], int(m.group(2))
        last = calendar.monthrange(year, month)[1]
        return date(year, month, 1), date(year, month, last)
    for m in _YEAR_IN.finditer(text):
        year = int(m.group(1))
        if year != vehicle_year:
            return date(year, 1, 1), date(year, 12, 31)
    return None


def technicians_named(text: str, cat: Catalog) -> tuple[str, ...]:
    codes: list[str] = []
    code = _TECH_CODE.search(text)
    if code and code.group(1) in cat.technicians.values():
        codes.append(code.group(1))
    for name in sorted(cat.technicians, key=len, reverse=True):
        if _mentions(text, name):
            codes.append(cat.technicians[name])
    return tuple(dict.fromkeys(codes))


def read_signals(text: str, cat: Catalog) -> Signals:
    """A year or colour given apart from the model ("which of those was a 2023?", "the
    gold one") still points at a vehicle: as a signal, it can only reorder."""
    mention = vehicle_mention(text, cat)
    year = mention.year if mention else None
    if year is None and (bare := _A_YEAR.search(text)):
        year = int(bare[1])
    color = mention.color if mention else None
    if color is None:
        named = [c for c in cat.colors if re.search(_A_COLOR.format(re.escape(c)), text)]
        color = max(named, key=len) if named else None
    makes = tuple(
        make for name, make in cat.makes.items() if len(name) >= 2 and _mentions(text, name)
    )
    dates = date_range(text, mention.year if mention else None)
    return Signals(
        makes=makes,
        models=(mention.model,) if mention else (),
        year=year,
        color=color,
        technicians=technicians_named(text, cat),
        date_from=dates[0] if dates else None,
        date_to=dates[1] if dates else None,
    )


async def existing_ro_numbers(
    session: AsyncSession, tenant_id: UUID, candidates: Sequence[str]
) -> tuple[str, ...]:
    if not candidates:
        return ()
    rows = await session.execute(
        text(
            "SELECT ro_number FROM app.repair_orders WHERE tenant_id = :t AND ro_number = ANY(:n)"
        ),
        {"t": tenant_id, "n": list(candidates)},
    )
    return tuple(str(r[0]) for r in rows)


async def ros_about(
    session: AsyncSession, tenant_id: UUID, ro_numbers: Sequence[str]
) -> tuple[UUID, ...]:
    """These ROs, and the later ones whose stories cite them ("recommended on RO 48211")."""
    rows = await session.execute(
        text(
            "SELECT ro_id FROM app.repair_orders WHERE tenant_id = :t AND ro_number = ANY(:n)"
            " UNION SELECT ro_id FROM app.ro_chunks WHERE tenant_id = :t"
            " AND fts_simple @@ to_tsquery('simple', :q)"
        ),
        {
            "t": tenant_id,
            "n": list(ro_numbers),
            "q": " | ".join(n for n in ro_numbers if n.isdigit()) or "''",
        },
    )
    return tuple(UUID(str(r[0])) for r in rows)


async def existing_plates(
    session: AsyncSession, tenant_id: UUID, keys: Sequence[bytes]
) -> tuple[bytes, ...]:
    if not keys:
        return ()
    rows = await session.execute(
        text(
            "SELECT DISTINCT plate_bidx FROM app.repair_orders WHERE tenant_id = :t"
            " AND plate_bidx = ANY(:k)"
        ),
        {"t": tenant_id, "k": list(keys)},
    )
    return tuple(bytes(r[0]) for r in rows)


async def understand(
    session: AsyncSession,
    tenant_id: UUID,
    question: ParsedQuestion,
    filters: Filters,
    plate_key: Callable[[str], bytes | None],
) -> Understood:
    """`filters` narrowed only by what the question names unambiguously and the shop's data
    confirms (an RO number that exists, a plate on file, make and model or year and model
    together); everything else it suggests comes back as signals."""
    text_ = question.text
    changes: dict[str, object] = {}
    if not filters.ro_numbers:
        bare = [m.group(1) for m in _BARE_NUMBER.finditer(text_)]
        found = await existing_ro_numbers(session, tenant_id, bare)
        if found:
            changes["ro_numbers"] = found
    if not (filters.plate_bidx or filters.vin_bidx or changes.get("ro_numbers")):
        keys = [k for m in _PLATE_LIKE.finditer(text_) if (k := plate_key(m.group(1)))]
        found_plates = await existing_plates(session, tenant_id, keys)
        if found_plates:
            changes["plate_bidx"] = found_plates
    numbers = changes.get("ro_numbers") or filters.ro_numbers
    if numbers:
        changes["ro_ids"] = await ros_about(session, tenant_id, numbers)  # type: ignore[arg-type]
        changes["ro_numbers"] = ()
    if changes.get("ro_ids") or changes.get("plate_bidx") or filters.selective:
        return Understood(replace(filters, **changes))  # type: ignore[arg-type]
    cat = await catalog(session, tenant_id)
    if filters.model is None and filters.make is None:
        changes |= vehicle_filters(text_, cat)
    unknown = await words_not_written(session, tenant_id, spelling.candidates(text_))
    names = [*cat.makes, *cat.models]
    signals = read_signals(spelling.respell(text_, unknown, names), cat)
    return Understood(replace(filters, **changes), signals)  # type: ignore[arg-type]


async def words_not_written(
    session: AsyncSession, tenant_id: UUID, words: Sequence[str]
) -> frozenset[str]:
    """The words none of the shop's chunks holds (by English stem): the only ones that may
    be typos of a name."""
    if not words:
        return frozenset()
    rows = await session.execute(
        text(
            # Word by word, each stem a lookup of the posting index (an anti-join over
            # `= ANY` read all the shop's postings: 130 ms on a 1,000-chunk shop).
            "SELECT w FROM unnest(CAST(:w AS text[])) AS w WHERE NOT EXISTS ("
            " SELECT 1 FROM unnest(tsvector_to_array(to_tsvector('english', w))) AS l(term)"
            " WHERE EXISTS (SELECT 1 FROM app.ro_chunk_terms t"
            " WHERE t.tenant_id = :t AND t.term = l.term))"
        ),
        {"t": tenant_id, "w": list(words)},
    )
    return frozenset(str(r[0]) for r in rows)
