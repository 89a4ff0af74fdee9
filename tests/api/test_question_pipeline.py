"""A chat turn flows one way: the question is parsed once, read once into a `Question`,
and the kind of answer is chosen before any search (an estimate never runs the general
search as well)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.chat import question as questions
from retrieval import query
from tests.api.conftest import auth_headers

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[Any]:
    """The first argument of every call."""
    calls: list[Any] = []
    real: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0] if args else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


async def _ask(client: AsyncTestClient[Litestar], user: str, content: str) -> dict[str, Any]:
    headers = await auth_headers(client, SHOP, user)
    created = await client.post("/api/v1/conversations", json={"title": "t"}, headers=headers)
    asked = await client.post(
        f"/api/v1/conversations/{created.json()['id']}/messages",
        json={"content": content},
        headers=headers,
    )
    assert asked.status_code == 201, asked.text
    answer: dict[str, Any] = asked.json()["answer"]
    return answer


async def test_a_question_is_parsed_once_and_searched_once(
    client: AsyncTestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    parses = _counting(monkeypatch, query, "parse")
    reads = _counting(monkeypatch, questions, "read")
    searches = _counting(monkeypatch, questions, "retrieve")
    asked = "front brake pads squeal on the 2018 camry, what did we do"
    answer = await _ask(client, "tech", asked)
    assert answer["model"] == "extractive"
    assert [text for text in parses if "squeal" in text] == [asked]  # the title is its own
    assert (len(reads), len(searches)) == (1, 1)


async def test_an_estimate_is_chosen_before_searching_and_searches_only_for_its_jobs(
    client: AsyncTestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _counting(monkeypatch, questions, "read")
    searches = _counting(monkeypatch, questions, "retrieve")
    answer = await _ask(client, "advisor", "estimate an oil change on a 2018 Toyota Camry")
    assert answer["model"] == "estimate-draft"
    assert len(reads) == 1
    assert searches == []
