"""Estimate drafts over HTTP and in chat: computed from the shop's own completed lines,
each citing its ROs; another shop's vehicle is a 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.chat import estimate_answer
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


def _window_with_both(demo: DemoService, first: str, second: str) -> dict[str, Any]:
    """A vehicle on whose range (same model, two years either side) the shop has completed
    both operations."""

    def done(op: str, alias: str) -> str:
        return (
            f"SELECT 1 FROM app.repair_orders {alias} JOIN app.ro_lines l"
            f" ON l.tenant_id = {alias}.tenant_id AND l.ro_id = {alias}.ro_id"
            " JOIN app.ro_labor_lines lb ON lb.tenant_id = l.tenant_id AND lb.line_id = l.line_id"
            f" WHERE l.status = 'completed' AND lb.operation = '{op}'"
            f" AND {alias}.vehicle_make = r.vehicle_make"
            f" AND {alias}.vehicle_model = r.vehicle_model"
            f" AND abs({alias}.vehicle_year - r.vehicle_year) <= 2"
        )

    rows = helpers.rows_as_admin(
        demo,
        SHOP,
        "SELECT r.vehicle_make AS make, r.vehicle_model AS model, r.vehicle_year AS year"
        f" FROM app.repair_orders r WHERE EXISTS ({done(first, 'a')})"
        f" AND EXISTS ({done(second, 'b')}) ORDER BY 3, 1, 2 LIMIT 1",
    )
    assert rows, f"no demo vehicle's range has had both {first} and {second}"
    return rows[0]


async def test_two_jobs_in_one_request_over_http(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    vehicle = _window_with_both(demo_service, "TIRE-ROT", "LOF-SYN")
    response = await client.post(
        "/api/v1/estimates/draft",
        json={"vehicle": vehicle, "work": "tire rotation plus an oil change"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert [(j["asked"], j["match"]) for j in draft["jobs"]] == [
        ("tire rotation", "exact"),
        ("oil change", "exact"),
    ]
    assert {x["job"]: x["operation"] for x in draft["labor"]} == {
        "tire rotation": "TIRE-ROT",
        "oil change": "LOF-SYN",
    }
    assert all(x["citations"] for x in [*draft["labor"], *draft["parts"]])
    labor = sum(Decimal(x["amount"]) for x in draft["labor"])
    parts = sum(Decimal(x["total"]) for x in draft["parts"] if not x["alternative"])
    assert Decimal(draft["subtotal_labor"]) == labor
    assert Decimal(draft["subtotal_parts"]) == parts > 0
    assert Decimal(draft["total"]) == labor + parts + Decimal(draft["tax"])


@pytest.mark.parametrize("work", ["estimate for the 2019 Civic", "how much?", "asdf"])
async def test_a_request_naming_no_work_is_a_422(
    client: AsyncTestClient[Litestar], work: str
) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    response = await client.post(
        "/api/v1/estimates/draft",
        json={"work": work, "vehicle": {"year": 2019, "make": "Honda", "model": "Civic"}},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "unprocessable"
    assert "name the work" in body["detail"]
    assert work not in body["detail"]
    assert "labor" not in body


async def _ask(client: AsyncTestClient[Litestar], headers: dict[str, str], text: str) -> Any:
    cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
    asked = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"content": text}, headers=headers
    )
    assert asked.status_code == 201, asked.text
    return asked.json()["answer"]


async def test_in_chat_a_request_naming_no_work_asks_for_the_work(
    client: AsyncTestClient[Litestar],
) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    answer = await _ask(client, headers, "estimate for the 2019 Civic")
    assert answer["model"] == "estimate-draft"
    assert answer["content"] == estimate_answer.NO_WORK
    assert answer.get("estimate") is None
    assert answer["citations"] == []
    neither = await _ask(client, headers, "how much would it cost?")
    assert neither["content"] == estimate_answer.NO_WORK_OR_VEHICLE
    assert neither.get("estimate") is None


async def test_in_chat_a_near_match_is_labelled_as_one(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    """A cabin filter on a vehicle whose range never had one, though the make has."""
    cabin = (
        "SELECT 1 FROM app.repair_orders r2 JOIN app.ro_lines l"
        " ON l.tenant_id = r2.tenant_id AND l.ro_id = r2.ro_id JOIN app.ro_labor_lines lb"
        " ON lb.tenant_id = l.tenant_id AND lb.line_id = l.line_id"
        " WHERE l.status = 'completed' AND lb.operation = 'FILT-CABIN'"
        " AND r2.vehicle_make = r.vehicle_make"
    )
    (vehicle,) = helpers.rows_as_admin(
        demo_service,
        SHOP,
        "SELECT r.vehicle_make AS make, r.vehicle_model AS model, r.vehicle_year AS year"
        f" FROM app.repair_orders r WHERE r.vehicle_year IS NOT NULL AND EXISTS ({cabin})"
        f" AND NOT EXISTS ({cabin} AND r2.vehicle_model = r.vehicle_model"
        " AND abs(r2.vehicle_year - r.vehicle_year) <= 2)"
        " AND r.vehicle_model ~ '[a-z]{3}'"
        " GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1, 2, 3 LIMIT 1",
    )
    name = f"{vehicle['year']} {vehicle['make']} {vehicle['model']}"
    headers = await auth_headers(client, SHOP, "advisor")
    answer = await _ask(client, headers, f"estimate a cabin filter for the {name}")
    estimate = answer["estimate"]
    assert estimate["vehicle"]["model"] == vehicle["model"]
    (job,) = estimate["jobs"]
    assert (job["asked"], job["match"]) == ("cabin filter", "near")
    assert "near match: the same work on" in job["reason"]
    assert job["reason"] in answer["content"]
    assert "near match:" in answer["content"]
    labor = [x for x in estimate["labor"] if x["job"] == "cabin filter"]
    assert [x["operation"] for x in labor] == ["FILT-CABIN"]
    by_ro = {c["ro_number"]: c["vehicle"] for c in answer["citations"]}
    for c in labor[0]["citations"]:
        assert by_ro[c["ro_number"]] == c["vehicle"] != name
