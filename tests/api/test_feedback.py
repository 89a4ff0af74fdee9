"""Feedback on answers: the asker rates an answer up or down with an optional reason; a
reason never stores a customer's detail in clear; nobody rates another user's answer."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"


async def _answer(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> dict[str, Any]:
    created = await client.post("/api/v1/conversations", json={"title": "t"}, headers=headers)
    asked = await client.post(
        f"/api/v1/conversations/{created.json()['id']}/messages",
        json={"content": "front brake pads squeal on the camry, what did we do?"},
        headers=headers,
    )
    assert asked.status_code == 201, asked.text
    answer: dict[str, Any] = asked.json()["answer"]
    return answer


async def test_the_asker_rates_an_answer_and_a_second_vote_replaces_the_first(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "tech")
    answer = await _answer(client, headers)
    url = f"/api/v1/messages/{answer['id']}/feedback"
    up = await client.put(url, json={"rating": "up"}, headers=headers)
    assert up.status_code == 200, up.text
    assert up.json() == {"message_id": answer["id"], "rating": "up", "reason": None}
    down = await client.put(
        url, json={"rating": "down", "reason": "  cited the wrong   visit "}, headers=headers
    )
    assert down.json()["reason"] == "cited the wrong visit"
    rows = helpers.rows_as_admin(
        demo_service,
        SHOP,
        "SELECT rating, reason FROM app.answer_feedback WHERE message_id = %s",
        [answer["id"]],
    )
    assert rows == [{"rating": "down", "reason": "cited the wrong visit"}]


async def test_a_reason_keeps_no_customer_detail_in_clear(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "tech")
    answer = await _answer(client, headers)
    cited = answer["citations"][0]
    phone = helpers.payload(demo_service, SHOP, cited["ro_id"])["phones"][0]
    response = await client.put(
        f"/api/v1/messages/{answer['id']}/feedback",
        json={"rating": "down", "reason": f"the customer at {phone} says this is wrong"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    stored = helpers.rows_as_admin(
        demo_service,
        SHOP,
        "SELECT reason FROM app.answer_feedback WHERE message_id = %s",
        [answer["id"]],
    )
    digits = "".join(ch for ch in phone if ch.isdigit())
    assert stored
    assert digits[-7:] not in "".join(ch for ch in stored[0]["reason"] if ch.isdigit())
    assert "says this is wrong" in stored[0]["reason"]


async def test_nobody_rates_another_users_answer_or_a_question(
    client: AsyncTestClient[Litestar],
) -> None:
    tech = await auth_headers(client, SHOP, "tech")
    answer = await _answer(client, tech)
    for name in ("advisor", "admin"):
        other = await auth_headers(client, SHOP, name)
        refused = await client.put(
            f"/api/v1/messages/{answer['id']}/feedback", json={"rating": "up"}, headers=other
        )
        assert refused.status_code == 404, refused.text
    bad = await client.put(
        f"/api/v1/messages/{answer['id']}/feedback", json={"rating": "meh"}, headers=tech
    )
    assert bad.status_code in (400, 422)
    long_reason = await client.put(
        f"/api/v1/messages/{answer['id']}/feedback",
        json={"rating": "down", "reason": "x" * 1001},
        headers=tech,
    )
    assert long_reason.status_code in (400, 422)
    unauthenticated = await client.put(
        f"/api/v1/messages/{answer['id']}/feedback", json={"rating": "up"}
    )
    assert unauthenticated.status_code == 401
