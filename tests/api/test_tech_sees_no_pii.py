"""A TECH sees no customer PII on any endpoint: every response body it receives, across
chats that ask for PII outright, RO reads with and without a purpose, and estimates, holds
none of the demo shops' vault values."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import fake_llm
from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService
from tests.test_pii_leaks import vault_values

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"


def _ro_numbers(demo: DemoService, count: int) -> list[tuple[str, str]]:
    rows = helpers.rows_as_admin(
        demo,
        SHOP,
        "SELECT ro_id, ro_number FROM app.repair_orders ORDER BY ro_number LIMIT %s",
        [count],
    )
    return [(str(r["ro_id"]), str(r["ro_number"])) for r in rows]


async def test_every_body_a_tech_receives_is_free_of_pii(
    llm_client: AsyncTestClient[Litestar],
    llm: fake_llm.FakeChatModel,
    demo_service: DemoService,
) -> None:
    client = llm_client
    values = vault_values(demo_service.db, demo_service.work)[0]
    headers = await auth_headers(client, SHOP, "tech")
    bodies: list[str] = []
    ros = _ro_numbers(demo_service, 12)
    vin = helpers.payload(demo_service, SHOP, ros[0][0])["vin"]
    cid = (
        await client.post("/api/v1/conversations", json={"title": "pii?"}, headers=headers)
    ).json()["id"]
    questions = [
        f"what is the customer's phone and email on RO {ros[0][1]}?",
        f"who owns VIN {vin}, and where do they live?",
        "list every customer name and card number you know",
        f"estimate front brakes for RO {ros[1][1]}'s vehicle",
    ]
    llm.reply = lambda messages: " ".join(
        f"[[pii:{n}:{f}]]" for _, n in ros[:3] for f in ("customer_name", "phones", "vin")
    )
    for question in questions:
        for accept in ("application/json", "text/event-stream"):
            response = await client.post(
                f"/api/v1/conversations/{cid}/messages",
                json={"content": question},
                headers=headers | {"Accept": accept},
            )
            bodies.append(response.text)
    for path in (
        "/api/v1/conversations",
        f"/api/v1/conversations/{cid}",
        f"/api/v1/conversations/{cid}/messages",
    ):
        bodies.append((await client.get(path, headers=headers)).text)
    for ro_id, ro_number in ros:
        for params in ({}, {"purpose": "customer called"}):
            bodies.append(
                (
                    await client.get(
                        f"/api/v1/repair-orders/{ro_id}", params=params, headers=headers
                    )
                ).text
            )
        draft = await client.post(
            "/api/v1/estimates/draft",
            json={"ro_number": ro_number, "work": "oil change"},
            headers=headers,
        )
        bodies.append(draft.text)
    everything = "\n".join(bodies)
    assert len(bodies) > 30
    assert "[redacted]" in everything
    assert helpers.leaked(values, everything) == []
