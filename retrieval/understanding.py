"""What a question names in this shop's own terms: a vehicle it has serviced, a technician,
a month or year, an RO number or plate typed bare. Each becomes a filter only when the
shop's data confirms it (the model really is in the shop, the RO number exists), so a
number or word that only looks like an identifier changes nothing.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from retrieval.query import ParsedQuestion
from retrieval.search import Filters

CATALOG_TTL_S = 300.0
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}
_MONTH_YEAR = re.compile(
    r"(?i)\b("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?\s+(?:of\s+)?((?:19|20)\d\d)\b"
)
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

    models: dict[str, tuple[str, str]] = field(default_factory=dict)  # "camry" -> (make, model)
    makes: dict[str, str] = field(default_factory=dict)
    colors: frozenset[str] = frozenset()
    technicians: dict[str, str] = field(default_factory=dict)  # name or surname -> code


_cache: dict[UUID, tuple[float, Catalog]] = {}


async def catalog(session: AsyncSession, tenant_id: UUID) -> Catalog:
    cached = _cache.get(tenant_id)
    if cached and time.monotonic() - cached[0] < CATALOG_TTL_S:
        return cached[1]
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
    technicians |= {s: next(iter(c)) for s, c in surnames.items() if len(c) == 1 and len(s) > 3}
    result = Catalog(
        models={str(model).lower(): (str(make), str(model)) for make, model, _ in vehicles},
        makes={str(make).lower(): str(make) for make, _, _ in vehicles if make},
        colors=frozenset(str(color).lower() for _, _, color in vehicles if color),
        technicians=technicians,
    )
    _cache[tenant_id] = (time.monotonic(), result)
    return result


def _mentions(text: str, phrase: str) -> re.Match[str] | None:
    return re.search(
        r"(?i)(?<![\w])" + re.escape(phrase).replace(r"\ ", r"[\s\-]?") + r"(?![\w])", text
    )


def vehicle_filters(text: str, cat: Catalog) -> dict[str, object]:
    """A model of this shop's, with its year and colour when the question gives them."""
    found = [
        (m, cat.models[name])
        for name in sorted(cat.models, key=len, reverse=True)
        if len(name) >= 3 and (m := _mentions(text, name))
    ]
    if not found:
        return {}
    match, (make, model) = found[0]
    out: dict[str, object] = {"make": make, "model": model}
    before = text[max(0, match.start() - 40) : match.start()]
    years = list(_VEHICLE_YEAR.finditer(before))
    if years:
        full, short = years[-1].groups()
        out["year"] = int(full) if full else 2000 + int(short)
    colors = [c for c in cat.colors if re.search(r"(?i)\b" + re.escape(c) + r"\b", before)]
    if colors:
        out["color"] = max(colors, key=len)  # "pearl white", not "white"
    return out


def date_filters(text: str, vehicle_year: int | None) -> dict[str, date]:
    m = _MONTH_YEAR.search(text)
    if m:
        month, year = _MONTHS[m.group(1).lower()], int(m.group(2))
        last = calendar.monthrange(year, month)[1]
        return {"date_from": date(year, month, 1), "date_to": date(year, month, last)}
    for m in _YEAR_IN.finditer(text):
        year = int(m.group(1))
        if year != vehicle_year:
            return {"date_from": date(year, 1, 1), "date_to": date(year, 12, 31)}
    return {}


def technician_filter(text: str, cat: Catalog) -> str | None:
    code = _TECH_CODE.search(text)
    if code and code.group(1) in cat.technicians.values():
        return code.group(1)
    for name in sorted(cat.technicians, key=len, reverse=True):
        if _mentions(text, name):
            return cat.technicians[name]
    return None


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
) -> Filters:
    """`filters` narrowed by what the question names and the shop's data confirms."""
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
        return replace(filters, **changes)  # type: ignore[arg-type]
    cat = await catalog(session, tenant_id)
    vehicle = vehicle_filters(text_, cat)
    if filters.model is None:
        changes |= vehicle
    dates = date_filters(text_, vehicle.get("year"))  # type: ignore[arg-type]
    if filters.date_from is None and filters.date_to is None:
        changes |= dates
    if filters.technician is None:
        tech = technician_filter(text_, cat)
        if tech:
            changes["technician"] = tech
    return replace(filters, **changes)  # type: ignore[arg-type]
