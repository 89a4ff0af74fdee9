"""Extractive answers over hand-built hits: which records lead, which lines come first,
what is left out, and the one line for a vehicle with nothing on the subject."""

from __future__ import annotations

import re
import uuid
from datetime import date

from assistant.chat import extractive, subject
from assistant.chat.extractive import NOT_FOUND, Scope, answer
from retrieval.search import Hit

CIVIC = "2019 Honda Civic"
VEHICLE = Scope(narrowed=True, vehicle=True)
WHOLE_SHOP = Scope()


def header(ro: str, day: date, lines: list[str], vehicle: str = CIVIC, rank: int = 1) -> Hit:
    body = [
        f"Repair order {ro}, status closed, opened {day}, closed {day}.",
        f"Vehicle: {vehicle}, Silver, mileage in 41318, out 41318.",
        "Advisor: Lawrence Reed (T193).",
        *lines,
    ]
    return _hit(ro, None, None, day, vehicle, f"RO {ro} | {day} | {vehicle}", body, rank)


def line(
    ro: str,
    letter: str,
    day: date,
    body: list[str],
    *,
    status: str = "completed",
    vehicle: str = CIVIC,
    rank: int = 1,
) -> Hit:
    context = f"RO {ro} line {letter} ({status}) | {day} | {vehicle} | 41318 mi"
    return _hit(ro, letter, status, day, vehicle, context, body, rank)


def _hit(
    ro: str,
    letter: str | None,
    status: str | None,
    day: date,
    vehicle: str,
    context: str,
    body: list[str],
    rank: int,
) -> Hit:
    return Hit(
        chunk_id=uuid.uuid4(),
        ro_id=uuid.uuid5(uuid.NAMESPACE_OID, ro),
        ro_number=ro,
        line_letter=letter,
        line_status=status,
        opened_on=day,
        vehicle=vehicle,
        kind="header" if letter is None else "line",
        content="\n".join([context, *body]),
        score=1.0 / (rank + 1),
        vector_rank=rank,
        text_rank=rank,
    )


OIL = line(
    "440451",
    "A",
    date(2023, 5, 31),
    [
        "Complaint: Maintenance reminder on; customer requests oil service.",
        "Cause: Scheduled service. Oil dark, level at add mark.",
        "Correction: Drained oil, replaced filter and drain plug gasket, refilled to spec.",
        "Labor: LOF-SYN, Synthetic oil and filter change, Jimmy Adams (423), 0.5 h, $72.50",
    ],
)
TIRES = line(
    "440412",
    "C",
    date(2022, 11, 15),
    [
        "Complaint: Customer requests tire rotation.",
        "Correction: Rotated tires, set pressures to door placard, torqued lug nuts to spec.",
    ],
)
CEL = line(
    "440390",
    "A",
    date(2022, 8, 19),
    [
        "Complaint: Customer states transmission slips and speedometer drops out.",
        "Cause: Verified MIL on. Scanned PCM/TCM: P0740 Torque Converter Clutch Circuit.",
        "Correction: Replaced transmission solenoid, refilled ATF. Cleared codes.",
        "Part: 24236933 Transmission solenoid x1 @ $88.10",
    ],
)
RECALL_HEADER = header(
    "440332",
    date(2021, 8, 12),
    [
        "Line A completed: Safety recall 20V314",
        "Line B completed: Synthetic oil and filter change",
    ],
)


def _bullets(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("- ")]


def _cites(bullet: str) -> str:
    found = re.search(r"\[(RO [^\]]+)\]$", bullet)
    assert found, bullet
    return found[1]


def _quoted(bullet: str) -> str:
    """A bullet's quoted text, without its where/when prefix and its citation."""
    return bullet.split("): ", 1)[1].rsplit(" [RO ", 1)[0]


def test_the_line_matching_the_subject_leads_whatever_the_search_order() -> None:
    hits = [OIL, RECALL_HEADER, TIRES, CEL]  # the search ranked the oil change first
    reply = answer(
        "check engine light on the 2019 civic, what codes did we see?", hits, (), VEHICLE
    )
    bullets = _bullets(reply.text)
    assert _cites(bullets[0]) == "RO 440390 line A"
    # Within it, the lines showing the light and the code come first.
    assert _quoted(bullets[0]).startswith("Cause: Verified MIL on.")
    # Records about something else are not quoted at all.
    assert len(bullets) == 1
    assert [h.ro_number for h in reply.cited] == ["440390"]


def test_a_header_that_only_says_which_ro_it_is_is_left_out() -> None:
    bare = header(
        "440451", date(2023, 5, 31), ["Line A completed: Synthetic oil and filter change"]
    )
    reply = answer("what was done on ro 440451", [bare, OIL], ("440451",), VEHICLE)
    bullets = _bullets(reply.text)
    # The header's only news was line A, quoted in full from its own chunk.
    assert [_cites(b) for b in bullets] == ["RO 440451 line A"]
    assert "Repair order 440451" not in reply.text


def test_a_headers_own_line_is_quoted_when_asked_for() -> None:
    bare = header("440451", date(2023, 5, 31), [])
    reply = answer("which advisor wrote up ro 440451?", [bare, OIL], ("440451",), VEHICLE)
    first = _bullets(reply.text)[0]
    assert _cites(first) == "RO 440451"
    assert _quoted(first) == "Advisor: Lawrence Reed (T193)."


def test_a_bare_header_answers_a_question_about_visits() -> None:
    bare = header("440451", date(2023, 5, 31), [])
    older = header("440412", date(2022, 11, 15), ["Line C completed: Rotate tires"], rank=0)
    reply = answer("when was the 2019 civic last in?", [older, TIRES, bare], (), VEHICLE)
    bullets = _bullets(reply.text)
    # Newest first, one bullet a visit: line C is in its visit's header already.
    assert [_cites(b) for b in bullets] == ["RO 440451", "RO 440412 line C"]
    assert _quoted(bullets[0]).startswith("Repair order 440451, status closed, opened 2023-05-31")


def test_nothing_on_the_subject_for_a_known_vehicle_says_so_and_names_its_visits() -> None:
    tires_header = header("440412", date(2022, 11, 15), ["Line C completed: Rotate tires"])
    hits = [TIRES, OIL, RECALL_HEADER, tires_header]
    reply = answer("check engine light on the 2019 Honda Civic, what codes?", hits, (), VEHICLE)
    assert reply.text == (
        "No check-engine work on file for this 2019 Honda Civic; its last visits were"
        " RO 440451 (2023-05-31, Maintenance reminder on; customer requests oil service.),"
        " RO 440412 (2022-11-15, Rotate tires),"
        " RO 440332 (2021-08-12, Safety recall 20V314; Synthetic oil and filter change)."
    )
    assert [(h.ro_number, h.line_letter) for h in reply.cited] == [
        ("440451", None),
        ("440412", None),
        ("440332", None),
    ]


def test_nothing_on_the_subject_on_a_named_ro_lists_that_ros_lines() -> None:
    reply = answer("did we do brakes on ro 440332?", [RECALL_HEADER], ("440332",), VEHICLE)
    assert reply.text == (
        "No brakes work on file on RO 440332 (2021-08-12, 2019 Honda Civic); its lines:"
        " A Safety recall 20V314; B Synthetic oil and filter change."
    )


def test_a_header_is_not_quoted_for_a_line_already_quoted() -> None:
    recall = line(
        "440332",
        "A",
        date(2021, 8, 12),
        [
            "Complaint: Customer received recall notice 20V314 in the mail.",
            "Labor: RCL-20V314, Safety recall 20V314, Stephen Hensley (215), 2.2 h, $0.00",
        ],
        rank=2,
    )
    technicians = header(
        "440332",
        date(2021, 8, 12),
        ["Technicians: Stephen Hensley (215).", "Line A completed: Safety recall 20V314"],
    )
    reply = answer("who did the recall on the civic?", [technicians, recall], (), VEHICLE)
    assert [_cites(b) for b in _bullets(reply.text)] == ["RO 440332 line A"]


def test_without_a_vehicle_a_question_nothing_matches_is_not_found() -> None:
    reply = answer("zebra migration patterns", [OIL, TIRES], (), WHOLE_SHOP)
    assert reply.text == NOT_FOUND
    assert reply.cited == []


def test_the_whole_shop_searched_a_code_or_part_number_must_match_exactly() -> None:
    pads = line(
        "440285",
        "A",
        date(2020, 10, 5),
        ["Correction: Replaced front brake pads.", "Part: 04465-KAR-W94 Front brake pad set x1"],
        vehicle="2020 Honda Accord",
    )
    assert answer("which ro used brake pads 04465-06200", [pads], (), WHOLE_SHOP).text == NOT_FOUND
    found = answer("which ro used 04465-kar-w94", [pads], (), WHOLE_SHOP)
    assert _bullets(found.text)[0].startswith("- RO 440285 line A")
    assert "Part: 04465-KAR-W94" in _bullets(found.text)[0]


def test_an_ro_or_vehicle_the_shop_does_not_have_is_not_found() -> None:
    assert answer("what was done on ro 440999", [OIL], ("440999",), WHOLE_SHOP).text == NOT_FOUND
    assert answer("plate [LICENSE_PLATE] oil history", [OIL], (), WHOLE_SHOP).text == NOT_FOUND


def test_the_last_one_asked_for_comes_first() -> None:
    older = line(
        "440332",
        "B",
        date(2021, 8, 12),
        ["Complaint: Customer requests oil and filter change."],
        rank=0,
    )
    reply = answer("last lof on the 2019 civic?", [older, OIL], (), VEHICLE)
    assert _cites(_bullets(reply.text)[0]) == "RO 440451 line A"


def test_declined_work_is_found_by_its_status_not_by_a_later_mention() -> None:
    returned = line(
        "440228",
        "A",
        date(2019, 8, 1),
        ["Complaint: Customer returns for front pads and rotors recommended on RO 440224."],
        rank=0,
    )
    declined = line(
        "440224",
        "B",
        date(2019, 6, 3),
        [
            "Complaint: Multi-point inspection: front brake pads at 3 mm.",
            "Correction: Recommended replacing front pads and rotors; customer declined.",
        ],
        status="declined",
    )
    reply = answer("what did they turn down?", [returned, declined], (), VEHICLE)
    assert [_cites(b) for b in _bullets(reply.text)] == ["RO 440224 line B"]


def test_the_line_answering_who_is_quoted_with_the_matching_ones() -> None:
    rotation = line(
        "440565",
        "C",
        date(2025, 3, 3),
        [
            "Complaint: Customer requests tire rotation.",
            "Cause: Routine rotation interval.",
            "Correction: Rotated and inspected tires, adjusted pressures, torqued lugs.",
            "Labor: ROT-4, Four-wheel service, Joseph Palmer (417), 0.5 h, $72.50",
        ],
    )
    reply = answer("who did the tire rotation on the civic?", [rotation], (), VEHICLE)
    assert _quoted(_bullets(reply.text)[0]) == (
        "Complaint: Customer requests tire rotation."
        " Correction: Rotated and inspected tires, adjusted pressures, torqued lugs."
        " Labor: ROT-4, Four-wheel service, Joseph Palmer (417), 0.5 h, $72.50"
    )
    # Asked about nothing in particular, the story is quoted: no labor line.
    plain = _quoted(_bullets(answer("tire rotation", [rotation], (), VEHICLE).text)[0])
    assert "Joseph Palmer" not in plain


def test_a_customer_detail_asked_for_is_a_placeholder_and_bullets_keep_citations() -> None:
    reply = answer(
        "customer's phone on RO 440451, and what did we do?", [OIL], ("440451",), VEHICLE
    )
    lines = reply.text.splitlines()
    assert lines[0] == "Customer phones on RO 440451: [[pii:440451:phones]]"
    assert [_cites(b) for b in _bullets(reply.text)] == ["RO 440451 line A"]


def test_at_most_max_records_bullets() -> None:
    hits = [
        line(str(440100 + i), "A", date(2020, 1, 1 + i), ["Complaint: Rotate tires."])
        for i in range(8)
    ]
    reply = answer("tire rotation", hits, (), WHOLE_SHOP)
    assert len(_bullets(reply.text)) == extractive.MAX_RECORDS
    assert len(reply.cited) == extractive.MAX_RECORDS


def test_scope_from_the_search_filters() -> None:
    assert Scope.of(["model", "year"]) == Scope(narrowed=True, vehicle=True)
    assert Scope.of(["technician"]) == Scope(narrowed=True, vehicle=False)
    assert Scope.of([]) == Scope()


def test_what_a_question_asks_about() -> None:
    asked = subject.read(
        "last lof and r/pads on the silver 2018 f150, ro 440661 - what histroy?",
        ["440661"],
        ["2018 Ford F-150"],
    )
    assert {u.key for u in asked.units} == {"oil", "rear", "pad"}
    assert asked.ro_refs == {"440661"}
    assert asked.vehicle == {"2018", "f150"}
    assert asked.recent
    # A year right before a model is the vehicle's; elsewhere it is a date.
    assert not subject.read("AC-EVAC done in june 2024?", [], ["2024 Ford F-150"]).vehicle
    cel = subject.read("any CEL codes on it?")
    assert [u.key for u in cel.units] == ["check_engine"]
    assert cel.matched("Cause: Scanned PCM: P0171 System Too Lean (Bank 1).")
    assert cel.matched("Cause: Verified MIL on.")
    assert not cel.matched("Correction: Changed oil and filter.")
    braking = subject.read("steering wheel shakes when braking")
    assert braking.matched("Complaint: Customer states brake pedal pulsates.") == {
        "brak",
        "vibration",
    }
    # A technician's name is the subject even when it is also a word like "miles".
    named = subject.read("what did Miles do", people=frozenset({"owen", "miles"}))
    assert [u.key for u in named.units] == [subject.stem("miles")]
    assert "mileage" not in named.aspects


def test_what_else_leads_with_what_the_last_answer_did_not_say() -> None:
    """ "What else was it in for?" after an answer citing the oil change: the tire rotation,
    then (if at all) what was already said."""
    first = answer("oil change on the civic", [OIL, TIRES], (), VEHICLE)
    assert _cites(_bullets(first.text)[0]) == "RO 440451 line A"
    said = {(h.ro_number, h.line_letter) for h in first.cited}
    again = answer("what else was it in for?", [OIL, TIRES], (), VEHICLE, already_said=said)
    assert _cites(_bullets(again.text)[0]) == "RO 440412 line C"


def test_a_visit_just_quoted_whole_counts_as_said() -> None:
    visit = header("440451", date(2023, 5, 31), ["Line A completed: Synthetic oil change"])
    said = {("440451", None)}
    reply = answer(
        "what was it in for before that?", [OIL, TIRES, visit], (), VEHICLE, already_said=said
    )
    assert not _cites(_bullets(reply.text)[0]).startswith("RO 440451")
