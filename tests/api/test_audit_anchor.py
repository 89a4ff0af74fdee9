"""`POST /api/v1/audit-log/verify` returns a signed anchor of the head and checks an earlier
anchor sent back: in a fresh shop of the demo database, so rewriting its log as the owner
touches no other test's rows."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.audit.test_anchor import REWRITTEN, rewrite_history
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio

VERIFY = "/api/v1/audit-log/verify"


async def fresh_shop_admin(
    client: AsyncTestClient[Litestar], demo: DemoService
) -> tuple[str, dict[str, str]]:
    slug = f"anchor-{uuid.uuid4().hex[:10]}"
    email, password = f"admin@{slug}.example", secrets.token_urlsafe(18)
    made = demo.cli("tenants", "create", slug, "--name", "Anchor Test")
    assert made.returncode == 0, made.stderr
    user = demo.cli(
        "users", "create", "--tenant", slug, "--email", email, "--role", "ADMIN",
        "--password-stdin", stdin=password,
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    token = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert token.status_code == 200, token.text
    return slug, {"Authorization": f"Bearer {token.json()['access_token']}"}


async def audited_reads(client: AsyncTestClient[Litestar], headers: dict[str, str], n: int) -> None:
    """A purposeful read of an RO the shop does not have is a 404, and on record."""
    for _ in range(n):
        response = await client.get(
            f"/api/v1/repair-orders/{uuid.uuid4()}", params={"purpose": "test"}, headers=headers
        )
        assert response.status_code == 404, response.text


async def verify(
    client: AsyncTestClient[Litestar], headers: dict[str, str], anchor: Any = None
) -> Any:
    body = None if anchor is None else {"anchor": anchor}
    response = await client.post(VERIFY, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_verify_signs_the_head_and_catches_a_rewrite_against_an_earlier_anchor(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    slug, admin = await fresh_shop_admin(client, demo_service)
    await audited_reads(client, admin, 3)

    first = await verify(client, admin)
    assert (first["ok"], first["problem"]) == (True, None)
    at = first["rows"]
    assert at >= 3
    anchor = first["anchor"]
    assert anchor is not None
    assert (anchor["format"], anchor["tenant"], anchor["seq"]) == (1, slug, at)
    assert anchor["tenant_id"] == str(helpers.tenant_id(demo_service, slug))
    stored = helpers.rows_as_admin(
        demo_service, slug, "SELECT hash FROM app.audit_log WHERE seq = %s", [at]
    )
    assert bytes(stored[0]["hash"]).hex() == anchor["hash"]
    assert set(anchor) == {
        "format", "tenant_id", "tenant", "seq", "hash", "created_at", "key_ref", "mac",
    }  # fmt: skip

    await audited_reads(client, admin, 2)
    grown = await verify(client, admin, anchor)
    assert (grown["ok"], grown["rows"], grown["anchor"]["seq"]) == (True, at + 2, at + 2)

    tenant = helpers.tenant_id(demo_service, slug)
    rewrite_history(demo_service.db.owner_url, tenant, at - 1, REWRITTEN)
    purposes = helpers.rows_as_admin(demo_service, slug, "SELECT purpose FROM app.audit_log")
    assert REWRITTEN in {row["purpose"] for row in purposes}
    plain = await verify(client, admin)
    assert plain["ok"] is True  # every hash was recomputed: the chain alone cannot tell
    caught = await verify(client, admin, anchor)
    assert caught == {
        "ok": False,
        "rows": at + 2,
        "first_broken_seq": None,
        "problem": f"row {at} does not match the anchor: the log up to row {at} was rewritten"
        " after the anchor was taken",
        "anchor": None,
    }


async def test_an_altered_or_foreign_anchor_is_unprocessable(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    _, admin = await fresh_shop_admin(client, demo_service)
    await audited_reads(client, admin, 2)
    anchor = (await verify(client, admin))["anchor"]

    for change in ({"seq": 1}, {"hash": "ab" * 32}, {"tenant": "desert-auto"}):
        response = await client.post(VERIFY, json={"anchor": anchor | change}, headers=admin)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["detail"] == (
            "the anchor's MAC does not match: the anchor was altered"
        )

    theirs = (await verify(client, await auth_headers(client, "desert-auto", "admin")))["anchor"]
    assert theirs["tenant"] == "desert-auto"
    refused = await client.post(VERIFY, json={"anchor": theirs}, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == "the anchor is another shop's"

    unknown_key = await client.post(
        VERIFY, json={"anchor": anchor | {"key_ref": "k-nowhere"}}, headers=admin
    )
    assert unknown_key.status_code == 422
    assert "which is not in the key ring" in unknown_key.json()["detail"]

    for bad in (anchor | {"extra": 1}, anchor | {"seq": -1}, anchor | {"hash": "XYZ"}):
        malformed = await client.post(VERIFY, json={"anchor": bad}, headers=admin)
        assert malformed.status_code == 422, (bad, malformed.text)
        assert malformed.json()["detail"] == "the request is not valid"
        assert malformed.json()["fields"], malformed.text
