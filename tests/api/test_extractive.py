"""Extractive answers (no model configured, as `make run` serves) on the demo shop, over
HTTP: what a technician gets when the vehicle is known, with and without the asked subject
in its records."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"
# How a record shows check-engine work: the light by any name, or a trouble code.
CHECK_ENGINE = r"(check engine|\mCEL\M|\mMIL\M|\mDTCs?\M|\mcodes?\M|\m[PBCU][0-3][0-9A-F]{3}\M)"
QUESTION = "check engine light on the {vehicle}, what codes did we see?"


def _vehicles(demo: DemoService, having: str) -> list[dict[str, Any]]:
    """Vehicles the shop has exactly one of (one VIN for the year, make and model), with
    their RO and chunk counts, filtered by `having`."""
    return helpers.rows_as_admin(
        demo,
        SHOP,
        "SELECT r.vehicle_year AS year, r.vehicle_make AS make, r.vehicle_model AS model,"
        " count(DISTINCT r.ro_id) AS ros, count(c.chunk_id) AS chunks"
        " FROM app.repair_orders r JOIN app.ro_chunks c"
        " ON c.tenant_id = r.tenant_id AND c.ro_id = r.ro_id"
        " GROUP BY 1, 2, 3 HAVING count(DISTINCT r.vin_bidx) = 1 AND "
        + having
        + " ORDER BY 4 DESC, 1, 2, 3",
        [CHECK_ENGINE],
    )


def _name(vehicle: dict[str, Any]) -> str:
    return f"{vehicle['year']} {vehicle['make']} {vehicle['model']}"


async def _ask(client: AsyncTestClient[Litestar], question: str) -> dict[str, Any]:
    headers = await auth_headers(client, SHOP, "tech")
    created = await client.post("/api/v1/conversations", json={"title": "cel"}, headers=headers)
    assert created.status_code == 201, created.text
    asked = await client.post(
        f"/api/v1/conversations/{created.json()['id']}/messages",
        json={"content": question},
        headers=headers,
    )
    assert asked.status_code == 201, asked.text
    answer: dict[str, Any] = asked.json()["answer"]
    assert answer["model"] == "extractive"
    return answer


async def test_no_check_engine_work_on_a_known_vehicle_is_one_line_naming_its_last_visits(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    # A vehicle with no check-engine work, few enough chunks that the search returns them all.
    vehicle = _vehicles(
        demo_service,
        "count(DISTINCT r.ro_id) >= 2 AND count(c.chunk_id) <= 8 AND NOT bool_or(c.content ~* %s)",
    )[0]
    visits = helpers.rows_as_admin(
        demo_service,
        SHOP,
        "SELECT ro_number, ro_open_date FROM app.repair_orders WHERE vehicle_year = %s"
        " AND vehicle_make = %s AND vehicle_model = %s ORDER BY ro_open_date DESC LIMIT 3",
        [vehicle["year"], vehicle["make"], vehicle["model"]],
    )
    answer = await _ask(client, QUESTION.format(vehicle=_name(vehicle)))
    content = answer["content"]
    assert "\n" not in content
    assert content.startswith(
        f"No check-engine work on file for this {_name(vehicle)}; its last visits were RO "
    )
    named = re.findall(r"RO (\d+) \((\d{4}-\d\d-\d\d), ", content)
    assert named == [(v["ro_number"], v["ro_open_date"].isoformat()) for v in visits]
    assert [(c["ro_number"], c["line"]) for c in answer["citations"]] == [
        (v["ro_number"], None) for v in visits
    ]


async def test_the_first_bullet_is_the_check_engine_line_among_the_vehicles_visits(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    vehicle = _vehicles(demo_service, "count(DISTINCT r.ro_id) >= 3 AND bool_or(c.content ~* %s)")[
        0
    ]
    engine_ros = {
        r["ro_number"]
        for r in helpers.rows_as_admin(
            demo_service,
            SHOP,
            "SELECT r.ro_number FROM app.repair_orders r JOIN app.ro_lines l"
            " ON l.tenant_id = r.tenant_id AND l.ro_id = r.ro_id WHERE r.vehicle_year = %s"
            " AND r.vehicle_make = %s AND r.vehicle_model = %s"
            " AND concat_ws(' ', l.complaint, l.cause, l.correction) ~* %s",
            [vehicle["year"], vehicle["make"], vehicle["model"], CHECK_ENGINE],
        )
    }
    answer = await _ask(client, QUESTION.format(vehicle=_name(vehicle)))
    assert len(answer["retrieval"]["hits"]) > 1
    bullets = [ln for ln in answer["content"].splitlines() if ln.startswith("- ")]
    assert bullets, answer["content"]
    # The search may return the RO's header rather than its line: either way the first
    # bullet is an RO with check-engine work, and it opens with the line showing it.
    first = re.search(r"\): (.*) \[RO (\d+)( line [A-Z]+)?\]$", bullets[0])
    assert first, bullets[0]
    assert first[2] in engine_ros
    opening = re.split(
        r" (?=(?:Complaint|Cause|Correction|Labor|Part|Line [A-Z]+ \w+): )", first[1]
    )
    assert re.search(
        r"(?i)(check engine|\bCEL\b|\bMIL\b|\bDTC|\bcodes?\b|\b[PBCU]\d{4}\b)", opening[0]
    )
    # No bullet is a bare RO header, and every one cites its record.
    for bullet in bullets:
        assert "): Repair order " not in bullet
        assert re.search(r"\[RO \d+( line [A-Z]+)?\]$", bullet)
    assert len(bullets) == len(answer["citations"])
