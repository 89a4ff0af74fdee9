"""Ordinary words that are also names in the shop rank results, never remove them: a
technician named Park, a model named Impact, and a Cougar made by two makers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.auth.caller import Caller
from assistant.chat.question import search_as
from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from retrieval.spelling import one_typo_apart, respell
from retrieval.understanding import Catalog, read_signals
from tests.samples import local_model

pytestmark = pytest.mark.anyio
SHOP = Path(__file__).parents[1] / "eval" / "realshop" / "shop.jsonl"
ROLLED_IN_PARK = "616522"  # Chevrolet Suburban, rolled down a hill while in park
SIDE_IMPACT_LATCH = "613979"  # Dodge Caravan, tailgate latch failed in a side impact
MERCURY_COUGAR = "617669"  # headlights coming on and off


def _slice() -> list[dict[str, object]]:
    """Every Impact and Cougar, Lena Park's work, the three answers and a few others."""
    records = [json.loads(line) for line in SHOP.read_text().splitlines() if line.strip()]
    wanted = []
    parks = 0
    for i, r in enumerate(records):
        by_park = any(
            (labor.get("technician") or {}).get("name") == "Lena Park"
            for line in r["lines"]
            for labor in line.get("labor") or ()
        )
        keep = (
            r["vehicle"]["model"] in {"Impact", "Cougar"}
            or r["ro_number"] in {ROLLED_IN_PARK, SIDE_IMPACT_LATCH, MERCURY_COUGAR}
            or (by_park and parks < 25)
            or i % 15 == 0
        )
        parks += keep and by_park
        if keep:
            wanted.append(r)
    return wanted


async def _searcher(app_db: Database, ring: KeyRing, shop: Tenant) -> Caller:
    content = "\n".join(json.dumps(r) for r in _slice()).encode()
    report = await ingest_bytes(app_db, ring, local_model(), shop.tenant_id, "real.jsonl", content)
    assert report.rejected == []
    return Caller(DbContext(tenant_id=shop.tenant_id, role=Role.TECH, user_id=None), "t@x", "s")


async def test_names_that_are_ordinary_words_never_remove_the_right_ro(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    caller = await _searcher(app_db, ring, shop)

    async def top(question: str, k: int = 5) -> tuple[list[str], list[str], list[str]]:
        result = await search_as(app_db, ring, local_model(), caller, question, k=k)
        ranked = list(dict.fromkeys(h.ro_number for h in result.hits))
        return ranked, result.trace.filters, result.trace.signals

    ranked, filters, signals = await top("truck rolled down a hill while the shifter was in park")
    assert ROLLED_IN_PARK in ranked[:3]
    assert "technicians" in signals
    assert "technician" not in filters

    ranked, filters, signals = await top("rear liftgate latch let go in a side impact")
    assert SIDE_IMPACT_LATCH in ranked[:3]
    assert "models" in signals
    assert "model" not in filters

    ranked, filters, _ = await top("headlights cutting in and out on the cougar")
    assert ranked[0] == MERCURY_COUGAR
    assert not {"model", "make"} & set(filters)

    result = await search_as(app_db, ring, local_model(), caller, "work done on the cougar", k=30)
    makes = {h.vehicle.split()[1] for h in result.hits if h.vehicle.endswith("Cougar")}
    assert makes == {"Keystone", "Mercury"}


async def test_a_named_vehicle_or_technician_still_leads(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    """Make and model together are a filter; a technician's name ranks their work first."""
    caller = await _searcher(app_db, ring, shop)
    result = await search_as(app_db, ring, local_model(), caller, "Mercury Cougar headlights")
    assert {"make", "model"} <= set(result.trace.filters)
    assert {h.vehicle.split()[1] for h in result.hits} == {"Mercury"}
    result = await search_as(app_db, ring, local_model(), caller, "what did Lena Park work on", k=5)
    assert result.hits
    assert all("Lena Park" in h.content for h in result.hits)


async def test_a_misspelt_vehicle_name_still_points_at_the_vehicle(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    """A word the shop has never written that is one keystroke from one of its model names
    ("coguar") is read as that name, as a signal: it ranks, it never filters."""
    caller = await _searcher(app_db, ring, shop)
    result = await search_as(
        app_db, ring, local_model(), caller, "headlamps going on and off on the coguar", k=5
    )
    ranked = list(dict.fromkeys(h.ro_number for h in result.hits))
    assert "models" in result.trace.signals
    assert not {"model", "make"} & set(result.trace.filters)
    assert MERCURY_COUGAR in ranked[:3]


def test_respelling_touches_only_unwritten_words_near_one_name() -> None:
    names = ["Nissan", "Rogue", "Ford", "Focus", "Golf", "Gold Wing"]
    unknown = {"nisan", "rouge", "focas", "gols"}
    assert respell("nisan rouge fuel pump", unknown, names) == "nissan rogue fuel pump"
    assert respell("the Focas oil pump belt", unknown, names) == "the focus oil pump belt"
    # "gold" is a word the shop has written (a colour): never a typo of "Golf"
    assert respell("the gold one", unknown, names) == "the gold one"
    # one keystroke from two names: left alone
    assert respell("gols", unknown, names) == "gols"
    assert one_typo_apart("histroy", "history")
    assert one_typo_apart("recal", "recall")
    assert not one_typo_apart("recall", "recall")
    assert not one_typo_apart("rouge", "rogues!")


def test_a_year_or_colour_given_apart_from_the_model_is_a_signal() -> None:
    cat = Catalog(
        models={"accord": (("Honda", "Accord"),)},
        makes={"honda": "Honda"},
        colors=frozenset({"gold", "black"}),
    )
    signals = read_signals("which one of those was a 2023? any Honda Accords", cat)
    assert signals.year == 2023
    assert read_signals("1993 Honda Accord, the gold one", cat).color == "gold"
    assert read_signals("Accord touchscreen going black", cat).color is None
    assert read_signals("what did we do in 2023", cat).year is None
