"""A follow-up can pick out one vehicle of the list the last answer gave ("which one of
those was a 2019?", "the second one"), not only mean the first one ("it")."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import auth_headers

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"
LIST_QUESTION = "brake pads replaced on which cars?"


async def _conversation(client: AsyncTestClient[Litestar]) -> Any:
    headers = await auth_headers(client, SHOP, "tech")
    created = await client.post("/api/v1/conversations", json={"title": "t"}, headers=headers)
    cid = created.json()["id"]

    async def ask(content: str) -> list[dict[str, Any]]:
        asked = await client.post(
            f"/api/v1/conversations/{cid}/messages", json={"content": content}, headers=headers
        )
        assert asked.status_code == 201, asked.text
        answer = asked.json()["answer"]
        assert answer["model"] == "extractive"
        citations: list[dict[str, Any]] = answer["citations"]
        return citations

    return ask


def _listed(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One citation per RO, in the answer's order."""
    return list({c["ro_number"]: c for c in reversed(citations)}.values())[::-1]


async def test_which_one_of_those_picks_by_model_year(client: AsyncTestClient[Litestar]) -> None:
    ask = await _conversation(client)
    listed = _listed(await ask(LIST_QUESTION))
    years = [c["vehicle"].split()[0] for c in listed]
    picks = [y for i, y in enumerate(years) if i > 0 and years.count(y) == 1]
    assert picks, f"the list needs a vehicle after the first with a year of its own: {years}"
    year = picks[0]
    cited = await ask(f"which one of those was a {year}?")
    assert cited[0]["vehicle"].startswith(year)
    assert cited[0]["ro_number"] in {c["ro_number"] for c in listed}


async def test_the_second_one_is_the_second_ro_listed(client: AsyncTestClient[Litestar]) -> None:
    ask = await _conversation(client)
    listed = _listed(await ask(LIST_QUESTION))
    assert len(listed) >= 2
    cited = await ask("and the second one, when was it done?")
    assert cited[0]["ro_number"] == listed[1]["ro_number"]
