"""Whatever a user types, a question is either accepted (and comes back PII-free) or refused
with a clear 422, never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chat.answers import check_question
from assistant.chat.question import Earlier, with_context
from assistant.errors import Unprocessable

NASTY = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "Cc", "Cf")), max_size=2500
)


@settings(max_examples=300, deadline=None)
@given(NASTY)
def test_any_text_is_accepted_or_refused_cleanly(text: str) -> None:
    try:
        parsed = check_question(text)
    except Unprocessable as exc:
        refusal: Unprocessable | None = exc
    else:
        refusal = None
        assert parsed.text.strip()
        assert len(parsed.text) <= 2000 + 40  # placeholders may be a little longer
    if refusal is not None:
        assert refusal.status == 422
        assert refusal.message


def test_typed_pii_never_survives_parsing() -> None:
    parsed = check_question(
        "VIN 4T1B11HK5JU123456, call (555) 201-7781 or jblake@example.com, plate AZ BXR4471"
    )
    for value in ("4T1B11HK5JU123456", "201-7781", "jblake@example.com", "BXR4471"):
        assert value not in parsed.text
    assert parsed.vins == ("4T1B11HK5JU123456",)


def test_follow_ups_carry_the_earlier_question_within_budget() -> None:
    earlier = [Earlier("brake pedal pulsates on RO 48211", ("48211",))]

    def searched(question: str, budget: int = 100) -> tuple[str, tuple[str, ...]]:
        parsed = check_question(question)
        out, _ = with_context(parsed, parsed.text, earlier, budget)
        return out.text, out.ro_numbers

    assert searched("and the rotors on it?") == (
        "and the rotors on it? brake pedal pulsates on RO 48211",
        ("48211",),
    )
    assert searched("coolant leak at the water pump") == ("coolant leak at the water pump", ())
    assert searched("what about it?", budget=3) == ("what about it?", ())
