"""PII scrubbing against an independently written, labelled set of technician notes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from retrieval.scrub import PiiKind, Scrubber, luhn_ok, placeholder, scrub, vin_check_digit_ok

NOTES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "scrub_notes.jsonl").read_text().splitlines()
]


def test_the_labelled_set_is_big_enough() -> None:
    assert len(NOTES) >= 200
    assert sum(len(n["pii"]) for n in NOTES) >= 400


def _missed(note: dict[str, Any]) -> tuple[list[str], list[str]]:
    scrubbed = scrub(note["text"], note["vault"])
    missed = [p["text"] for p in note["pii"] if p["text"] in scrubbed]
    lost = [k for k in note["keep"] if k not in scrubbed]
    return missed, lost


def test_recall_and_no_false_positives_on_shop_identifiers() -> None:
    total = sum(len(n["pii"]) for n in NOTES)
    missed: list[tuple[str, str]] = []
    lost: list[tuple[str, str]] = []
    for note in NOTES:
        m, k = _missed(note)
        missed += [(note["id"], x) for x in m]
        lost += [(note["id"], x) for x in k]
    recall = 1 - len(missed) / total
    assert recall >= 0.99, missed
    assert lost == []


def test_findings_are_typed_placeholders() -> None:
    vault = {"customer_name": "Jordan Blake", "phones": ["(555) 201-7781"]}
    result = Scrubber(vault).scrub("Called Jordan Blake at 555.201.7781; card 4111 1111 1111 1111")
    assert result.text == (
        f"Called {placeholder(PiiKind.CUSTOMER_NAME)} at "
        f"{placeholder(PiiKind.PHONE)}; card {placeholder(PiiKind.CARD_NUMBER)}"
    )
    assert [f.kind for f in result.findings] == [
        PiiKind.CUSTOMER_NAME,
        PiiKind.PHONE,
        PiiKind.CARD_NUMBER,
    ]


@pytest.mark.parametrize(
    "text",
    [
        "P0420 catalyst efficiency below threshold bank 1",
        "Replaced 04465-06200 pads and 43512-06190 rotors per BRK-FR-PR on RO 48211",
        "Recall 24V-123 performed, torque 80 ft-lb, 225/45R17, 61,234 mi, 0.004 in runout",
        "white smoke on cold start, long crank; skid plate 4 bolts missing; advisor tag T112",
    ],
)
def test_shop_text_without_pii_is_untouched(text: str) -> None:
    """Even when the customer's surname is an everyday word ("White")."""
    vault = {"customer_name": "Jordan White", "license_plate": "7KDL392"}
    assert scrub(text, vault) == text


def test_an_everyday_surname_is_still_caught_as_a_name() -> None:
    vault = {"customer_name": "Jordan White"}
    assert scrub("spoke with Mr. White, then Jordan White approved", vault) == (
        "spoke with Mr. [CUSTOMER_NAME], then [CUSTOMER_NAME] approved"
    )


def test_check_digit_and_luhn() -> None:
    assert vin_check_digit_ok("1HGCM82633A004352")
    assert not vin_check_digit_ok("1HGCM82634A004352")
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
