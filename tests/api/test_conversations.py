"""Conversations belong to their user: create, list newest first, page, rename, archive,
delete; anyone else's is a 404 (an ADMIN may read, audited, but never change)."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio
SHOP = "lakeside-motors"


async def test_create_list_page_rename_archive_delete(client: AsyncTestClient[Litestar]) -> None:
    headers = await auth_headers(client, SHOP, "advisor")
    ids = []
    for i in range(5):
        created = await client.post(
            "/api/v1/conversations", json={"title": f"  job   {i} "}, headers=headers
        )
        assert created.status_code == 201
        assert created.json()["title"] == f"job {i}"
        ids.append(created.json()["id"])
    untitled = await client.post("/api/v1/conversations", headers=headers)
    assert untitled.status_code == 201
    assert untitled.json()["title"] is None
    ids.append(untitled.json()["id"])

    seen, cursor = [], None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/conversations", params=params, headers=headers)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:6] == list(reversed(ids))
    assert len(seen) == len(set(seen))

    renamed = await client.patch(
        f"/api/v1/conversations/{ids[0]}", json={"title": "front brakes"}, headers=headers
    )
    assert renamed.json()["title"] == "front brakes"
    archived = await client.patch(
        f"/api/v1/conversations/{ids[0]}", json={"status": "archived"}, headers=headers
    )
    assert archived.json()["status"] == "archived"
    assert archived.json()["title"] == "front brakes"
    active = await client.get("/api/v1/conversations", params={"status": "active"}, headers=headers)
    assert ids[0] not in [c["id"] for c in active.json()["items"]]
    blocked = await client.post(
        f"/api/v1/conversations/{ids[0]}/messages", json={"content": "brakes?"}, headers=headers
    )
    assert blocked.status_code == 409

    assert (
        await client.delete(f"/api/v1/conversations/{ids[1]}", headers=headers)
    ).status_code == 204
    gone = await client.get(f"/api/v1/conversations/{ids[1]}", headers=headers)
    assert gone.status_code == 404


async def test_someone_elses_conversation_is_a_404(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    owner = await auth_headers(client, SHOP, "tech")
    cid = (
        await client.post("/api/v1/conversations", json={"title": "mine"}, headers=owner)
    ).json()["id"]
    asked = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"content": "oil change"}, headers=owner
    )
    assert asked.status_code == 201
    colleague = await auth_headers(client, SHOP, "advisor")
    stranger = await auth_headers(client, "desert-auto", "admin")
    for headers in (colleague, stranger):
        for method, path, body in (
            ("GET", f"/api/v1/conversations/{cid}", None),
            ("GET", f"/api/v1/conversations/{cid}/messages", None),
            ("PATCH", f"/api/v1/conversations/{cid}", {"title": "taken"}),
            ("DELETE", f"/api/v1/conversations/{cid}", None),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"content": "hello"}),
        ):
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert cid not in response.text
            assert response.json()["detail"] == "no such conversation"
    unknown = await client.get(f"/api/v1/conversations/{uuid.uuid4()}", headers=owner)
    assert unknown.status_code == 404

    # The shop's admin may read it, audited, but not change it.
    admin = await auth_headers(client, SHOP, "admin")
    read = await client.get(f"/api/v1/conversations/{cid}", headers=admin)
    assert read.status_code == 200
    assert read.json()["title"] == "mine"
    rows = helpers.audit_rows(demo_service, SHOP, read.headers["x-request-id"])
    assert [(r["action"], r["object_id"], r["actor_role"]) for r in rows] == [
        ("conversation.read_other", cid, "ADMIN")
    ]
    change = await client.patch(f"/api/v1/conversations/{cid}", json={"title": "x"}, headers=admin)
    assert change.status_code == 404
    mine = await client.get("/api/v1/conversations", headers=owner)
    assert cid in [c["id"] for c in mine.json()["items"]]
    theirs = await client.get("/api/v1/conversations", headers=admin)
    assert cid not in [c["id"] for c in theirs.json()["items"]]


async def test_bad_conversation_input_is_a_clear_4xx(client: AsyncTestClient[Litestar]) -> None:
    headers = await auth_headers(client, SHOP, "tech")
    cases = [
        ("POST", "/api/v1/conversations", {"title": "x" * 201}, 422),
        ("POST", "/api/v1/conversations", {"title": 5}, 422),
        ("POST", "/api/v1/conversations", {"owner": "someone"}, 422),
        ("GET", "/api/v1/conversations?limit=0", None, 400),
        ("GET", "/api/v1/conversations?limit=abc", None, 400),
        ("GET", "/api/v1/conversations?cursor=!!!", None, 422),
        ("GET", "/api/v1/conversations?status=deleted", None, 400),
        ("GET", "/api/v1/conversations/not-a-uuid", None, 404),
        ("PATCH", f"/api/v1/conversations/{uuid.uuid4()}", {"status": "gone"}, 422),
    ]
    for method, path, body, status in cases:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (method, path, response.text)
        assert response.json()["error"]
        assert response.json()["request_id"] == response.headers["x-request-id"]
