"""The placeholder syntax, `[[pii:RO_NUMBER:FIELD]]`, and how text from outside loses it.

A placeholder is a server-to-reader channel: the server writes it into an answer and
renders it for each reader. Anything a user types or a record carries that could read as
one is neutralised before it is stored, so a planted placeholder is never filled in for
someone else.
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\[\[pii:([A-Za-z0-9\-]{1,20}):([a-z_]{2,20})\]\]")
# Only a run's first character may start a match (the lookbehind), and nothing inside a
# run is retried (possessive), so the work stays linear in the text whatever it holds.
_BLANKS = r"\s\u200b-\u200d\u2060\ufeff\x00-\x08\x0e-\x1f\x7f"
_BLANK = f"[{_BLANKS}]"
_LOOKALIKE = re.compile(
    rf"(?<![\[{_BLANKS}])({_BLANK}*+)\[(?:{_BLANK}*+\[)++"
    rf"(?={_BLANK}*+(?i:pii){_BLANK}*+:)"
)


def placeholder(ro_number: str, field: str) -> str:
    return f"[[pii:{ro_number}:{field}]]"


def _one_bracket(match: re.Match[str]) -> str:
    return match[1] + "["


def neutralise(text: str) -> str:
    """`[[pii:1:vin]]` typed by someone becomes `[pii:1:vin]]`: readable, never rendered.

    Any spelling a model might "repair" into one counts: case, blanks (any white space,
    control or zero-width character), a run of brackets.
    """
    return _LOOKALIKE.sub(_one_bracket, text) if "[" in text else text


def neutralise_data(value: Any) -> Any:
    """Every string of a parsed record, however deeply nested."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, list):
        return [neutralise_data(v) for v in value]
    if isinstance(value, dict):
        return {k: neutralise_data(v) for k, v in value.items()}
    return value
