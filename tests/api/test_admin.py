"""The admin API: audit log search (paginated), export, chain verification; ADMIN only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio
SHOP = "lakeside-motors"


async def test_audit_search_export_and_verify(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    target = helpers.ro(demo_service, SHOP)
    tech = await auth_headers(client, SHOP, "tech")
    for _ in range(3):
        await client.get(
            f"/api/v1/repair-orders/{target['ro_id']}",
            params={"purpose": "=cmd|' /C calc'!A0"},
            headers=tech,
        )
    admin = await auth_headers(client, SHOP, "admin")
    denied = await client.get(
        "/api/v1/audit-log",
        params={"ro_id": str(target["ro_id"]), "outcome": "denied", "limit": 2},
        headers=admin,
    )
    assert denied.status_code == 200, denied.text
    page = denied.json()
    assert len(page["items"]) == 2
    assert page["next_after_seq"] is not None
    assert all(i["outcome"] == "denied" and i["actor_role"] == "TECH" for i in page["items"])
    rest = await client.get(
        "/api/v1/audit-log",
        params={
            "ro_id": str(target["ro_id"]),
            "outcome": "denied",
            "after_seq": page["next_after_seq"],
        },
        headers=admin,
    )
    assert len(rest.json()["items"]) >= 1
    assert rest.json()["items"][0]["seq"] > page["items"][-1]["seq"]

    exported = await client.get(
        "/api/v1/audit-log/export",
        params={"format": "csv", "ro_id": str(target["ro_id"])},
        headers=admin,
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) >= 3
    assert {r["object_id"] for r in rows} == {str(target["ro_id"])}
    assert not any(r["purpose"].startswith("=") for r in rows)  # no formula injection
    lines = await client.get("/api/v1/audit-log/export", params={"format": "jsonl"}, headers=admin)
    items = [json.loads(line) for line in lines.text.splitlines()]
    assert [i["seq"] for i in items] == sorted(i["seq"] for i in items)

    verified = await client.post("/api/v1/audit-log/verify", headers=admin)
    assert verified.status_code == 200
    assert verified.json()["ok"] is True
    assert verified.json()["rows"] >= len(items)


@pytest.mark.parametrize("name", ["tech", "advisor"])
async def test_only_admins_use_the_admin_api(client: AsyncTestClient[Litestar], name: str) -> None:
    headers = await auth_headers(client, SHOP, name)
    for method, path in (
        ("GET", "/api/v1/audit-log"),
        ("GET", "/api/v1/audit-log/export?format=csv"),
        ("POST", "/api/v1/audit-log/verify"),
        ("GET", "/api/v1/users"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"] == "forbidden"
    admin = await auth_headers(client, SHOP, "admin")
    for params in ({"outcome": "maybe"}, {"after_seq": str(10**20)}, {"since": "yesterday"}):
        bad = await client.get("/api/v1/audit-log", params=params, headers=admin)
        assert bad.status_code == 400, (params, bad.text)
