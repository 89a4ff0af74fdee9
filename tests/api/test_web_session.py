"""The web session: the API's token in an HttpOnly, SameSite=Strict cookie, renewed
half-way through its life while the user is active, and gone at sign-out. (Here, not with
the browser tests: an async test cannot run once Playwright's sync API holds the loop.)"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import anyio
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.settings import Settings
from tests.api.conftest import login_of

pytestmark = pytest.mark.anyio


@pytest.fixture
async def short_sessions(api_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = dataclasses.replace(api_settings, token_ttl_s=4)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_the_session_cookie_is_strict_httponly_and_renewed_while_active(
    short_sessions: AsyncTestClient[Litestar],
) -> None:
    client = short_sessions
    form = await client.get("/signin")
    token = re.search(r'data-csrf="([0-9a-f]+)"', form.text)
    assert token is not None
    email, password = login_of("desert-auto", "tech")
    signed_in = await client.post(
        "/signin",
        data={"email": email, "password": password, "_csrf_token": token[1], "next": "/chat"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/chat"
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith("ro_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain HTTP here; set when the request is HTTPS
    fresh = await client.get("/session/keepalive")
    assert fresh.status_code == 204
    assert "ro_session=" not in ";".join(fresh.headers.get_list("set-cookie"))
    await anyio.sleep(2.2)  # past half the token's 4 s life
    renewed = await client.get("/session/keepalive")
    assert renewed.status_code == 204
    new_cookie = next(
        c for c in renewed.headers.get_list("set-cookie") if c.startswith("ro_session=")
    )
    assert new_cookie.split(";")[0] != cookie.split(";")[0]
    signed_out = await client.post(
        "/signout", data={"_csrf_token": token[1]}, follow_redirects=False
    )
    assert signed_out.status_code == 303
    assert (await client.get("/chat", follow_redirects=False)).status_code == 303


async def test_static_files_are_cached_and_pages_are_not_public(
    client: AsyncTestClient[Litestar],
) -> None:
    asset = await client.get("/static/app.css")
    assert asset.status_code == 200
    assert "max-age=86400" in asset.headers["cache-control"]
    assert asset.headers["content-type"].startswith("text/css")
    vendored = await client.get("/static/vendor/htmx-2.0.11.min.js")
    assert vendored.status_code == 200
    missing = await client.get("/static/../pyproject.toml")
    assert missing.status_code == 404
    page = await client.get("/chat", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/chat"
