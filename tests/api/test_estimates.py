"""Estimate drafts over HTTP and in chat: computed from the shop's own completed lines,
each citing its ROs; another shop's vehicle is a 404."""

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


def _front_brake_job(demo: DemoService) -> dict[str, Any]:
    """An RO of the shop with a front pads-and-rotors labor line."""
    return helpers.ro(
        demo,
        SHOP,
        "EXISTS (SELECT 1 FROM app.ro_labor_lines lb WHERE lb.ro_id = r.ro_id"
        " AND lb.operation = 'BRK-FR-PR')",
    )


async def test_draft_by_vehicle_and_by_ro(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    job = _front_brake_job(demo_service)
    by_vehicle = await client.post(
        "/api/v1/estimates/draft",
        json={
            "vehicle": {"make": job["make"], "model": job["model"]},
            "work": "replace front pads and rotors",
        },
        headers=headers,
    )
    assert by_vehicle.status_code == 200, by_vehicle.text
    draft = by_vehicle.json()
    assert draft["labor"]
    assert draft["labor"][0]["citations"]
    assert float(draft["total"]) > 0
    assert draft["vehicle"]["make"] == job["make"]

    by_ro = await client.post(
        "/api/v1/estimates/draft",
        json={"ro_number": job["ro_number"], "work": "front brakes pads rotors"},
        headers=headers,
    )
    assert by_ro.status_code == 200
    assert by_ro.json()["vehicle"]["identified_by"] == "ro_number"


async def test_another_shops_vehicle_is_a_404_and_bad_input_a_422(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    theirs = helpers.ro(demo_service, "lakeside-motors")
    missing = await client.post(
        "/api/v1/estimates/draft",
        json={"ro_number": theirs["ro_number"], "work": "oil change"},
        headers=headers,
    )
    assert missing.status_code == 404
    assert theirs["ro_number"] not in missing.json()["detail"]
    for body in (
        {"work": "oil change"},
        {"work": "oil change", "ro_number": "1", "vehicle": {"make": "Ford", "model": "F-150"}},
        {"work": "   ", "vehicle": {"make": "Ford", "model": "F-150"}},
    ):
        response = await client.post("/api/v1/estimates/draft", json=body, headers=headers)
        assert response.status_code == 422, response.text
    unknown = await client.post(
        "/api/v1/estimates/draft",
        json={"work": "oil change", "vehicle": {"make": "Yugo", "model": "GV"}},
        headers=headers,
    )
    assert unknown.status_code == 200
    assert unknown.json()["labor"] == []
    assert unknown.json()["notes"]


async def test_an_advisor_asking_in_chat_gets_the_computed_draft(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    job = _front_brake_job(demo_service)
    cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
    asked = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"content": f"estimate front pads and rotors on RO {job['ro_number']}'s vehicle"},
        headers=headers,
    )
    assert asked.status_code == 201, asked.text
    answer = asked.json()["answer"]
    assert answer["model"] == "estimate-draft"
    estimate = answer["estimate"]
    assert estimate["vehicle"]["identified_by"] == "ro_number"
    assert answer["content"].startswith("Estimate draft for a")
    assert f"${estimate['total']}" in answer["content"]
    cited = {c["ro_number"] for item in estimate["labor"] for c in item["citations"]}
    assert cited
    assert cited <= {c["ro_number"] for c in answer["citations"]}
    again = await client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)
    assert again.json()[1]["estimate"] == estimate
