"""Streaming never splits a PII placeholder: it is rendered whole or not at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chat.placeholders import PLACEHOLDER, render_stream

TEXT = "Phone [[pii:48211:phones]], email [[pii:48211:email]]; a [bracket] and [[not one]]. ["


async def _render(text: str) -> str:
    return PLACEHOLDER.sub(lambda m: f"<{m[2]}>", text)


async def _pieces(text: str, cuts: list[int]) -> AsyncIterator[str]:
    last = 0
    for cut in sorted(set(cuts)):
        yield text[last:cut]
        last = cut
    yield text[last:]


async def _collect(cuts: list[int]) -> list[str]:
    return [piece async for piece in render_stream(_pieces(TEXT, cuts), _render)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(TEXT)), max_size=30))
def test_any_split_renders_the_same(cuts: list[int]) -> None:
    out = anyio.run(_collect, cuts)
    assert "".join(out) == anyio.run(_render, TEXT)
    assert not any("[[pii" in piece for piece in out)
