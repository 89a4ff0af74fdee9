"""Requests for several jobs, jobs the vehicle never had, and requests naming no work, on the
demo shops. Expected figures and vehicles are found with SQL, never typed in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from assistant.db.session import Database, DbContext, Role
from assistant.estimates import repository, work
from assistant.estimates.drafts import (
    EstimateRequest,
    LaborEstimate,
    NoWorkNamed,
    PartEstimate,
)
from assistant.estimates.service import NO_MATCH, asked_jobs
from assistant.pii.keyring import KeyRing
from retrieval import query
from retrieval.search import Filters, search
from tests.estimates.conftest import draft
from tests.samples import local_model

pytestmark = pytest.mark.anyio
CENT = Decimal("0.01")
# Every completed labor entry with its line, RO and vehicle.
_OPS = (
    "SELECT lb.operation, l.ro_id, l.line_letter, r.vehicle_make, r.vehicle_model,"
    " r.vehicle_year FROM app.ro_labor_lines lb JOIN app.ro_lines l"
    " ON l.tenant_id = lb.tenant_id AND l.line_id = lb.line_id"
    " JOIN app.repair_orders r ON r.tenant_id = l.tenant_id AND r.ro_id = l.ro_id"
    " WHERE lb.tenant_id = :t AND l.status = 'completed'"
)


async def fetch(db: Database, tenant: UUID, sql: str) -> Sequence[Any]:
    async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as session:
        return (await session.execute(text(sql), {"t": tenant})).all()


Vehicle = tuple[str, str, int]


async def done_on(db: Database, tenant: UUID) -> dict[str, list[tuple[Vehicle, UUID, str]]]:
    """Operation -> every completed line that billed it, with its vehicle."""
    out: dict[str, list[tuple[Vehicle, UUID, str]]] = defaultdict(list)
    for op, ro_id, letter, make, model, year in await fetch(db, tenant, _OPS):
        if op and make and model and year:
            out[op].append(((make, model, year), ro_id, letter))
    return out


def in_window(vehicle: Vehicle, center: Vehicle) -> bool:
    return vehicle[:2] == center[:2] and abs(vehicle[2] - center[2]) <= 2


@pytest.mark.parametrize(
    ("request_text", "asked"),
    [
        ("brakes and oil change", ["brakes", "oil change"]),
        ("front pads plus a cabin filter", ["front pads", "cabin filter"]),
        ("oil change, tire rotation and wipers", ["oil change", "tire rotation", "wipers"]),
        ("estimate oil change + tire rotation & wipers", ["oil change", "tire rotation", "wipers"]),
        ("brake fluid flush; also an alignment", ["brake fluid flush", "alignment"]),
        # kept whole: a name of its own, a phrase of the shop's descriptions, or a side
        # that names no work
        ("rack and pinion", ["rack and pinion"]),
        ("replace front pads and rotors", ["front pads and rotors"]),
        ("Rotate tires and set pressures", ["Rotate tires and set pressures"]),
        ("oil and filter change and a tire rotation", ["oil and filter change", "tire rotation"]),
        ("front and rear pads", ["front and rear pads"]),
        ("brakes, please", ["brakes"]),
        # nothing to price
        ("estimate for the 2019 Civic", []),
        ("how much?", []),
        ("asdf", []),
        ("quote for a 2019 Honda Civic, and also for the Accord", []),
    ],
)
async def test_a_request_is_split_into_the_jobs_it_names(
    db: Database, desert: UUID, request_text: str, asked: list[str]
) -> None:
    async with db.transaction(DbContext(tenant_id=desert, role=Role.TECH)) as session:
        jobs = await asked_jobs(session, desert, request_text, ("Honda", "Civic Accord"))
    assert [job.asked for job in jobs] == asked


async def test_two_jobs_in_one_request_give_one_draft_pricing_both(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    done = await done_on(db, desert)
    both = sorted(
        vehicle
        for vehicle, _, _ in done["LOF-SYN"]
        if any(in_window(other, vehicle) for other, _, _ in done["TIRE-ROT"])
    )
    assert both, "no demo vehicle has had both an oil change and a tire rotation"
    make, model, year = both[0]
    request = EstimateRequest("oil change and tire rotation", year, make, model)
    d = await draft(db, keys, desert, request)

    assert [(j.asked, j.match) for j in d.jobs] == [
        ("oil change", "exact"),
        ("tire rotation", "exact"),
    ]
    assert {item.job: item.operation for item in d.labor} == {
        "oil change": "LOF-SYN",
        "tire rotation": "TIRE-ROT",
    }
    for item in d.labor:
        assert item.citations
        for c in item.citations:  # each line cited did that very operation, in the window
            assert any(
                (ro_id, letter) == (c.ro_id, c.line_letter) and in_window(vehicle, both[0])
                for vehicle, ro_id, letter in done[item.operation or ""]
            ), c
    assert {p.job for p in d.parts} == {"oil change"}  # a rotation needs no parts
    assert d.subtotal_labor == sum(item.amount for item in d.labor)
    assert d.subtotal_parts == sum(p.total for p in d.parts if not p.alternative) > 0
    assert d.tax == (d.tax_rate * d.subtotal_parts).quantize(CENT, ROUND_HALF_UP)
    assert d.total == d.subtotal_labor + d.subtotal_parts + d.tax

    # Merged, each job is priced exactly as it is on its own, and the totals add up.
    alone = [
        await draft(db, keys, desert, EstimateRequest(asked, year, make, model))
        for asked in ("oil change", "tire rotation")
    ]
    for single in alone:
        (job,) = single.jobs
        assert [(x.operation, x.amount, x.citations) for x in single.labor] == [
            (x.operation, x.amount, x.citations) for x in d.labor if x.job == job.asked
        ]
    assert d.subtotal_labor == sum(single.subtotal_labor for single in alone)
    assert d.subtotal_parts == sum(single.subtotal_parts for single in alone)

    # The same request in other words is the same draft.
    for words in ("oil change + tire rotation", "oil change, also a tire rotation"):
        other = await draft(db, keys, desert, EstimateRequest(words, year, make, model))
        assert (other.labor, other.parts, other.total) == (d.labor, d.parts, d.total)


async def window_lines(
    db: Database, tenant: UUID, phrase: str, make: str, model: str, year: int
) -> int:
    """How many completed lines of the window the search returns for `phrase`: what a
    draft without a relevance test would have priced."""
    async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as session:
        ro_ids = [
            r[0]
            for r in await session.execute(
                text(
                    "SELECT ro_id FROM app.repair_orders WHERE tenant_id = :t"
                    " AND vehicle_make = :make AND vehicle_model = :model"
                    " AND vehicle_year BETWEEN :y0 AND :y1"
                ),
                {"t": tenant, "make": make, "model": model, "y0": year - 2, "y1": year + 2},
            )
        ]
        filters = Filters(make=make, model=model, ro_ids=tuple(ro_ids), line_status=("completed",))
        result = await search(session, local_model(), tenant, query.parse(phrase), filters)
    return sum(1 for h in result.hits if h.kind == "line")


@pytest.mark.parametrize(
    ("phrase", "op"),
    [("cabin filter", "FILT-CABIN"), ("wiper blades", "WIPER"), ("battery", "BATT-REPL")],
)
async def test_a_job_the_vehicle_never_had_is_said_so_never_priced_from_other_work(
    db: Database, keys: KeyRing, desert: UUID, phrase: str, op: str
) -> None:
    done = await done_on(db, desert)
    had = {vehicle for vehicle, _, _ in done[op]}
    serviced = [v for lines in done.values() for v, _, _ in lines]
    lacking = sorted(  # the vehicle with the most other work on its range
        {v for v in serviced if not any(in_window(h, v) for h in had)},
        key=lambda v: (-sum(in_window(o, v) for o in serviced), v),
    )
    assert lacking, f"every demo vehicle's range has had {op}"
    make, model, year = lacking[0]
    assert await window_lines(db, desert, phrase, make, model, year) > 0  # something to misuse

    d = await draft(
        db, keys, desert, EstimateRequest(f"{phrase} and oil change", year, make, model)
    )
    job = next(j for j in d.jobs if j.asked == phrase)
    missing = f"no completed {phrase} work on {year - 2}-{year + 2} {make} {model} on file"
    assert job.match in ("near", "none")
    assert job.reason is not None
    assert job.reason.startswith(missing)
    assert job.reason in d.notes
    ours: list[LaborEstimate | PartEstimate] = [
        *(x for x in d.labor if x.job == phrase),
        *(p for p in d.parts if p.job == phrase),
    ]
    if job.match == "none":
        assert ours == []
        assert job.lines == 0
        return
    assert job.reason.startswith(f"{missing}; near match: the same work on {make} ")
    assert "the total includes near matches: check them before sending" in d.notes
    assert ours
    billed_op = {(ro, letter): v for v, ro, letter in done[op]}
    for item in ours:  # the same work, on vehicles outside the window
        for c in item.citations:
            assert (c.ro_id, c.line_letter) in billed_op, c
            vehicle = billed_op[(c.ro_id, c.line_letter)]
            assert not in_window(vehicle, (make, model, year))
            assert vehicle[0] == make
            assert c.vehicle == f"{vehicle[2]} {vehicle[0]} {vehicle[1]}"


async def test_work_no_vehicle_of_the_make_had_is_missing_with_nothing_priced(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    descriptions = await fetch(
        db,
        desert,
        "SELECT description FROM app.ro_labor_lines WHERE tenant_id = :t"
        " UNION SELECT description FROM app.ro_parts_lines WHERE tenant_id = :t",
    )
    assert not [d for (d,) in descriptions if d and "pinion" in d.lower()]
    d = await draft(
        db, keys, desert, EstimateRequest("rack and pinion, plus brakes", 2019, "Toyota", "Camry")
    )
    rack = d.jobs[0]
    assert (rack.asked, rack.match, rack.lines) == ("rack and pinion", "none", 0)
    assert rack.reason == "no completed rack and pinion work on 2017-2021 Toyota Camry on file"
    assert [x for x in d.labor if x.job == "rack and pinion"] == []
    assert [x for x in d.parts if x.job == "rack and pinion"] == []
    assert d.jobs[1].asked == "brakes"
    assert d.labor  # the brake job is still priced
    assert {x.job for x in d.labor} == {"brakes"}
    assert NO_MATCH not in d.notes


@pytest.mark.parametrize(
    "words", ["estimate for the 2019 Civic", "how much?", "asdf", "2019 Civic, please"]
)
async def test_a_request_naming_no_work_is_refused(
    db: Database, keys: KeyRing, desert: UUID, words: str
) -> None:
    with pytest.raises(NoWorkNamed) as raised:
        await draft(db, keys, desert, EstimateRequest(words, 2019, "Honda", "Civic"))
    assert "name the work" in str(raised.value)


async def test_did_requires_the_work_to_be_billed_not_just_mentioned(
    db: Database, desert: UUID
) -> None:
    """The relevance rule on every completed line of the shop: a line did a job when all the
    job's words are among its billed items and correction, and one among the billed items.
    Reading the whole story instead would price a vacuum leak, an engine mount or a recall
    whose text mentions a brake as a brake job."""
    rows = await fetch(
        db,
        desert,
        "SELECT (SELECT string_agg(operation, ' ') FROM app.ro_labor_lines lb"
        "  WHERE lb.tenant_id = l.tenant_id AND lb.line_id = l.line_id),"
        " concat_ws(' ; ', (SELECT string_agg(description, ' ; ') FROM app.ro_labor_lines lb"
        "  WHERE lb.tenant_id = l.tenant_id AND lb.line_id = l.line_id),"
        "  (SELECT string_agg(description, ' ; ') FROM app.ro_parts_lines p"
        "  WHERE p.tenant_id = l.tenant_id AND p.line_id = l.line_id)),"
        " coalesce(l.complaint, ''), coalesce(l.cause, ''), coalesce(l.correction, '')"
        " FROM app.ro_lines l WHERE l.tenant_id = :t AND l.status = 'completed'",
    )
    intended = {
        "brakes": {"BRK-FR-PR", "BRK-RR-PR", "BRK-FLUSH", "BRK-SWITCH"},
        "front pads": {"BRK-FR-PR"},
        "rear pads and rotors": {"BRK-RR-PR"},
        "cabin filter": {"FILT-CABIN"},
        "wiper blades": {"WIPER"},
        "battery": {"BATT-REPL"},
        "serpentine belt": {"BELT-SERP"},
        "alignment": {"ALIGN-4W"},
    }
    async with db.transaction(DbContext(tenant_id=desert, role=Role.TECH)) as session:
        texts = [t for row in rows for t in row[1:]]
        vocabulary = work.Vocabulary.build(
            await repository.stems(session, work.vocabulary_words(texts) | work.words_of(intended)),
            [row[1] for row in rows],
        )
    story_wrong = set()
    for phrase, ops in intended.items():
        (job,) = work.asked_jobs(phrase, vocabulary)
        accepted = [
            set(row[0].split()) for row in rows if work.did(job, vocabulary, row[1], row[4])
        ]
        done = [row for row in rows if set((row[0] or "").split()) & ops]
        assert accepted
        assert all(found & ops for found in accepted), phrase  # nothing unrelated
        assert len(accepted) == len(done), phrase  # and every line that did it
        story_wrong |= {
            (phrase, row[0])
            for row in rows
            if work.did(job, vocabulary, " ; ".join(row[1:]), "")
            and not set((row[0] or "").split()) & ops
        }
    assert {phrase for phrase, _ in story_wrong} >= {"brakes", "battery", "serpentine belt"}


async def test_a_model_named_without_its_make_takes_the_make_on_file(
    db: Database, keys: KeyRing, desert: UUID
) -> None:
    (make,) = {
        r[0]
        for r in await fetch(
            db, desert, "SELECT vehicle_make FROM app.repair_orders WHERE vehicle_model = 'Camry'"
        )
    }
    d = await draft(db, keys, desert, EstimateRequest("oil change", 2019, None, "camry"))
    assert (d.vehicle.make, d.vehicle.model) == (make, "Camry")
    assert d.labor
