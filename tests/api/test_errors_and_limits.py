"""What a client can send never gets a 500: malformed bodies, oversized bodies, unknown
routes and fields, too many requests. Every error has the same JSON shape."""

from __future__ import annotations

import dataclasses

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.settings import Settings
from tests.api.conftest import auth_headers

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"


async def test_bad_requests_are_clear_4xx(client: AsyncTestClient[Litestar]) -> None:
    headers = await auth_headers(client, SHOP, "tech")
    cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
    messages = f"/api/v1/conversations/{cid}/messages"
    cases = [
        ("POST", messages, {"content": b"{not json"}, 400),
        ("POST", messages, {"json": {"content": ""}}, 422),
        ("POST", messages, {"json": {"content": "x" * 2001}}, 422),
        ("POST", messages, {"json": {"content": "\x00\x01\x02"}}, 422),
        ("POST", messages, {"json": {"question": "brakes"}}, 422),
        ("POST", messages, {"json": ["brakes"]}, 422),
        ("POST", messages, {"content": b"x" * (70 * 1024)}, 413),
        ("GET", "/api/v1/nothing-here", {}, 404),
        ("PUT", "/api/v1/conversations", {}, 405),
        ("POST", "/api/v1/auth/token", {"json": {"email": "a@b.c"}}, 422),
        ("POST", "/api/v1/auth/token", {"json": {"email": "a\x00@b.c", "password": "x"}}, 400),
        ("GET", "/api/v1/conversations?cursor=" + "A" * 199, {}, 422),
    ]
    for method, path, kwargs, status in cases:
        response = await client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, (method, path, status, response.text)
        body = response.json()
        assert set(body) >= {"error", "detail", "request_id"}
    stored = await client.get(messages, headers=headers)
    assert stored.json() == []  # nothing half-written by the refused requests
    # Control characters in a title are cleaned like those of a question, not refused.
    titled = await client.post(
        "/api/v1/conversations", json={"title": "nul \x00 here"}, headers=headers
    )
    assert titled.status_code == 201, titled.text
    assert titled.json()["title"] == "nul here"


async def test_too_many_requests_per_user_are_429(api_settings: Settings) -> None:
    settings = dataclasses.replace(api_settings, rate_limit_per_minute=5)
    async with AsyncTestClient(app=create_app(settings)) as client:
        headers = await auth_headers(client, SHOP, "tech")
        statuses = [
            (await client.get("/api/v1/conversations", headers=headers)).status_code
            for _ in range(6)
        ]
        assert statuses[:4] == [200] * 4
        assert statuses[-1] == 429
        limited = await client.get("/api/v1/conversations", headers=headers)
        assert limited.json()["error"] == "rate_limited"
        assert limited.headers.get("ratelimit-reset") is not None
        other = await auth_headers(client, "lakeside-motors", "tech")
        assert (await client.get("/api/v1/conversations", headers=other)).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_openapi_lists_the_routes(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/v1/auth/token",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/repair-orders/{ro_id}",
        "/api/v1/estimates/draft",
        "/api/v1/audit-log",
        "/api/v1/audit-log/export",
        "/api/v1/audit-log/verify",
        "/api/v1/users",
    ):
        assert path in schema["paths"], path
