"""Logging in, and every request re-reading the user: a disabled account or a changed role
takes effect on the very next request, whatever the token says."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import TOKEN_SECRET, auth_headers, login_of

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"
PASSWORD = "a-long-enough-password-1"


async def _new_user(
    client: AsyncTestClient[Litestar], admin: dict[str, str], role: str, email: str | None = None
) -> tuple[str, str]:
    email = email or f"user-{uuid.uuid4().hex[:8]}@desert-auto.example"
    created = await client.post(
        "/api/v1/users", json={"email": email, "role": role, "password": PASSWORD}, headers=admin
    )
    assert created.status_code == 201, created.text
    return email, str(created.json()["id"])


async def _token(client: AsyncTestClient[Litestar], email: str, tenant: str | None = None) -> str:
    body = {"email": email, "password": PASSWORD} | ({"tenant": tenant} if tenant else {})
    response = await client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    assert 0 < response.json()["expires_in"] <= 3600
    return str(response.json()["access_token"])


async def test_wrong_or_unknown_logins_are_one_401(client: AsyncTestClient[Litestar]) -> None:
    email, password = login_of(SHOP, "tech")
    for body in (
        {"email": email, "password": password + "x"},
        {"email": "nobody@nowhere.example", "password": password},
        {"email": email, "password": password, "tenant": "lakeside-motors"},
    ):
        response = await client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.json()["detail"] == "wrong email or password"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer " + jwt.encode({"sub": "x"}, "some-other-secret-of-enough-length-1234"),
    ],
)
async def test_requests_without_a_valid_token_are_401(
    client: AsyncTestClient[Litestar], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.get("/api/v1/conversations", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_an_expired_token_is_refused(client: AsyncTestClient[Litestar]) -> None:
    headers = await auth_headers(client, SHOP, "tech")
    claims = jwt.decode(headers["Authorization"][7:], TOKEN_SECRET, algorithms=["HS256"])
    claims |= {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}
    stale = jwt.encode(claims, TOKEN_SECRET, algorithm="HS256")
    response = await client.get(
        "/api/v1/conversations", headers={"Authorization": f"Bearer {stale}"}
    )
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_disabling_a_user_takes_effect_at_once(client: AsyncTestClient[Litestar]) -> None:
    admin = await auth_headers(client, SHOP, "admin")
    email, user_id = await _new_user(client, admin, "TECH")
    headers = {"Authorization": f"Bearer {await _token(client, email)}"}
    assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 200
    disabled = await client.patch(
        f"/api/v1/users/{user_id}", json={"is_active": False}, headers=admin
    )
    assert disabled.json()["is_active"] is False
    assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 401
    relogin = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert relogin.status_code == 401


async def test_a_role_change_takes_effect_at_once(client: AsyncTestClient[Litestar]) -> None:
    admin = await auth_headers(client, SHOP, "admin")
    email, user_id = await _new_user(client, admin, "TECH")
    headers = {"Authorization": f"Bearer {await _token(client, email)}"}
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 403
    promoted = await client.patch(f"/api/v1/users/{user_id}", json={"role": "ADMIN"}, headers=admin)
    assert promoted.json()["role"] == "ADMIN"
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 200


async def test_an_email_in_two_shops_needs_the_shop(client: AsyncTestClient[Litestar]) -> None:
    email = f"shared-{uuid.uuid4().hex[:8]}@example.com"
    for shop in ("desert-auto", "lakeside-motors"):
        await _new_user(client, await auth_headers(client, shop, "admin"), "TECH", email)
    ambiguous = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert ambiguous.status_code == 409
    assert "tenant" in ambiguous.json()["detail"]
    token = await _token(client, email, tenant="lakeside-motors")
    claims = jwt.decode(token, TOKEN_SECRET, algorithms=["HS256"])
    lakeside = await client.get(
        "/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}
    )
    assert lakeside.status_code == 200
    assert set(claims) >= {"sub", "tid", "exp", "iat"}
    assert "role" not in claims


async def test_the_last_admin_cannot_be_removed(client: AsyncTestClient[Litestar]) -> None:
    admin = await auth_headers(client, "lakeside-motors", "admin")
    users = (await client.get("/api/v1/users", headers=admin)).json()
    admins = [u for u in users if u["role"] == "ADMIN" and u["is_active"]]
    assert len(admins) == 1
    response = await client.patch(
        f"/api/v1/users/{admins[0]['id']}", json={"role": "TECH"}, headers=admin
    )
    assert response.status_code == 409
    duplicate = await client.post(
        "/api/v1/users",
        json={
            "email": login_of("lakeside-motors", "tech")[0],
            "role": "TECH",
            "password": PASSWORD,
        },
        headers=admin,
    )
    assert duplicate.status_code == 409
    weak = await client.post(
        "/api/v1/users",
        json={"email": "weak@lakeside.example", "role": "TECH", "password": "short"},
        headers=admin,
    )
    assert weak.status_code == 422
