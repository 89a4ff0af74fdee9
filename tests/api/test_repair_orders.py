"""Reading one RO: its PII withheld without a purpose, revealed to ADMIN and PII_APPROVED
with one audit row, refused (and audited) for TECH; another shop's RO is a 404."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.pii.vault import PII_FIELDS
from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"


async def test_pii_by_role_with_a_purpose(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    target = helpers.ro(demo_service, SHOP, "vin_bidx IS NOT NULL")
    path = f"/api/v1/repair-orders/{target['ro_id']}"
    truth = helpers.payload(demo_service, SHOP, target["ro_id"])

    tech = await auth_headers(client, SHOP, "tech")
    plain = await client.get(path, headers=tech)
    assert plain.status_code == 200
    body = plain.json()
    assert body["ro_number"] == target["ro_number"]
    assert body["lines"]
    assert body["customer"] == dict.fromkeys(PII_FIELDS, "[redacted]")
    assert body["pii"]["access"] == "withheld"
    assert "vin_bidx" not in body
    assert "tenant_id" not in body
    assert helpers.audit_rows(demo_service, SHOP, plain.headers["x-request-id"]) == []

    refused = await client.get(path, params={"purpose": "call the customer"}, headers=tech)
    assert refused.status_code == 200
    assert refused.json()["pii"]["access"] == "denied"
    assert truth["vin"] not in refused.text
    assert truth["customer_name"] not in refused.text
    rows = helpers.audit_rows(demo_service, SHOP, refused.headers["x-request-id"])
    assert [(r["outcome"], r["actor_role"], r["purpose"]) for r in rows] == [
        ("denied", "TECH", "call the customer")
    ]

    for name, role in (("admin", "ADMIN"), ("advisor", "PII_APPROVED")):
        headers = await auth_headers(client, SHOP, name)
        shown = await client.get(path, params={"purpose": "warranty claim"}, headers=headers)
        assert shown.status_code == 200
        assert shown.json()["customer"]["vin"] == truth["vin"]
        assert shown.json()["customer"]["customer_name"] == truth["customer_name"]
        rows = helpers.audit_rows(demo_service, SHOP, shown.headers["x-request-id"])
        assert [(r["action"], r["outcome"], r["actor_role"]) for r in rows] == [
            ("pii.reveal", "allowed", role)
        ]
        assert sorted(rows[0]["pii_fields"]) == sorted(PII_FIELDS)


async def test_another_shops_ro_is_a_404_and_bad_input_a_4xx(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    theirs = helpers.ro(demo_service, "lakeside-motors")
    admin = await auth_headers(client, SHOP, "admin")
    for ro_id in (theirs["ro_id"], uuid.uuid4()):
        response = await client.get(
            f"/api/v1/repair-orders/{ro_id}", params={"purpose": "look"}, headers=admin
        )
        assert response.status_code == 404
        assert response.json()["detail"] == "no such repair order"
        assert theirs["ro_number"] not in response.text
        # The probe is on record all the same.
        rows = helpers.audit_rows(demo_service, SHOP, response.headers["x-request-id"])
        assert [(r["outcome"], r["object_id"]) for r in rows] == [("denied", str(ro_id))]
    plain = await client.get(f"/api/v1/repair-orders/{theirs['ro_id']}", headers=admin)
    assert plain.status_code == 404
    assert helpers.audit_rows(demo_service, SHOP, plain.headers["x-request-id"]) == []
    long_purpose = await client.get(
        f"/api/v1/repair-orders/{theirs['ro_id']}", params={"purpose": "x" * 201}, headers=admin
    )
    assert long_purpose.status_code == 400
    blank = await client.get(
        f"/api/v1/repair-orders/{helpers.ro(demo_service, SHOP)['ro_id']}",
        params={"purpose": "   "},
        headers=admin,
    )
    assert blank.status_code == 422
