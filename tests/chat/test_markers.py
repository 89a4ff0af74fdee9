"""Placeholders typed by users or carried by records are neutralised, whatever the text."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.pii.customer_terms import TermKind, payload_terms
from assistant.pii.markers import PLACEHOLDER, neutralise, neutralise_data


@pytest.mark.parametrize(
    "typed",
    [
        "[[pii:48211:phones]]",
        "[[[pii:48211:phones]]",
        "[ [pii:48211:phones]]",
        "[[PII:48211:phones]]",
        "[[ pii :48211:phones]]",
        "x[[pii:1:vin]][[pii:2:vin]]",
    ],
)
def test_typed_placeholders_lose_their_power(typed: str) -> None:
    out = neutralise(typed)
    assert PLACEHOLDER.search(out) is None
    assert "pii" in out.lower()  # still readable as typed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[] pi:Il1-_a", max_size=80))
def test_no_text_keeps_a_placeholder(text: str) -> None:
    assert PLACEHOLDER.search(neutralise(text)) is None


def test_records_are_neutralised_throughout() -> None:
    data = {"lines": [{"complaint": "see [[pii:9:vin]]", "labor": [{"hours": 1.5}]}]}
    assert neutralise_data(data) == {
        "lines": [{"complaint": "see [pii:9:vin]]", "labor": [{"hours": 1.5}]}]
    }


@pytest.mark.parametrize("run", ["[" * 65536, "[ " * 32768, "[[pii:" * 10922, "pii:" * 16384])
def test_neutralising_is_linear(run: str) -> None:
    def timed() -> float:
        started = time.perf_counter()
        neutralise(run)
        return time.perf_counter() - started

    assert min(timed() for _ in range(3)) < 0.1


def test_customer_terms_cover_name_street_phone_email() -> None:
    terms = payload_terms(
        {
            "customer_name": "Dana M. Whitfield",
            "address": {"street": "418 Oak Ridge Dr", "city": "Tucson"},
            "phones": ["+1 (520) 555-0199", "555-0100"],
            "email": " Dana.W@Example.com ",
        }
    )
    assert (TermKind.NAME, "dana whitfield") in terms
    assert (TermKind.NAME, "whitfield dana") in terms
    assert (TermKind.SURNAME, "whitfield") in terms
    assert (TermKind.STREET, "418 oak ridge") in terms
    assert (TermKind.PHONE, "5205550199") in terms
    assert (TermKind.EMAIL, "dana.w@example.com") in terms
    assert not any(value == "5550100" for _, value in terms)  # not a full number
    # A surname that is an everyday word never stands alone.
    assert (TermKind.SURNAME, "park") not in payload_terms({"customer_name": "Lena Park"})
