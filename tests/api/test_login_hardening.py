"""Logging in under attack: a per-account limit on failed logins that holds whatever address
the guesses come from and says nothing about which accounts exist, and a cap on how many
argon2 checks (64 MiB each) run at once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.testing import AsyncTestClient, TestClient
from litestar.types import Receive, Scope, Send

from assistant import logging
from assistant.api.app import create_app
from assistant.auth.service import BAD_LOGIN, LOCKED_OUT
from assistant.settings import Settings
from tests.api.conftest import login_of

TOKEN = "/api/v1/auth/token"
SHOP = "desert-auto"
LIMIT = 10
LOCKOUT_S = 900


class ClientAddressFromHeader:
    """Takes the client address from `X-Test-Client`, the way a server behind a proxy takes
    it from the forwarded header, so one test client can be many addresses."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            for name, value in scope["headers"]:
                if name == b"x-test-client":
                    scope["client"] = (value.decode(), 40000)
        await self.app(scope, receive, send)


@pytest.fixture
def hardened_settings(api_settings: Settings) -> Settings:
    # The per-address limit stays far away, so only the per-account one can answer 429.
    # Counts live in the database every test shares; a secret of its own gives this test
    # buckets of its own, so its lockouts do not reach the other tests' logins.
    return dataclasses.replace(
        api_settings,
        token_secret=f"hardened-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        rate_limit_per_minute=100_000,
        login_failures_per_account=LIMIT,
        login_lockout_s=LOCKOUT_S,
    )


@pytest.fixture
async def many_addresses(
    hardened_settings: Settings,
) -> AsyncIterator[AsyncTestClient[ClientAddressFromHeader]]:
    async with AsyncTestClient(app=ClientAddressFromHeader(create_app(hardened_settings))) as c:
        yield c


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "service.log"
    logging.configure("INFO", path)
    yield path
    structlog.reset_defaults()


async def _login(
    client: AsyncTestClient[ClientAddressFromHeader], email: str, password: str, address: str
) -> Any:
    return await client.post(
        TOKEN, json={"email": email, "password": password}, headers={"X-Test-Client": address}
    )


async def _fail_until_locked(
    client: AsyncTestClient[ClientAddressFromHeader], spellings: list[str], prefix: str
) -> None:
    """LIMIT wrong passwords, each from its own address and spelling of the email."""
    for i in range(LIMIT):
        email = spellings[i % len(spellings)]
        refused = await _login(client, email, "not-the-password-1", f"{prefix}.{i}")
        assert refused.status_code == 401, (i, refused.text)
        assert refused.json()["detail"] == BAD_LOGIN


def _assert_locked(response: Any) -> int:
    assert response.status_code == 429, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "request_id"}
    assert body["error"] == "rate_limited"
    assert body["detail"] == LOCKED_OUT
    retry_after = int(response.headers["retry-after"])
    assert LOCKOUT_S - 60 <= retry_after <= LOCKOUT_S
    # The per-address limiter still had room: it was not what refused.
    assert int(response.headers["ratelimit-remaining"]) > 1000
    return retry_after


@pytest.mark.anyio
async def test_ten_failures_lock_the_account_from_any_address(
    many_addresses: AsyncTestClient[ClientAddressFromHeader], log_file: Path
) -> None:
    email, password = login_of(SHOP, "tech")
    await _fail_until_locked(many_addresses, [email, email.upper(), f"  {email.title()} "], "10.1")
    locked = await _login(many_addresses, email, password, "192.0.2.77")
    _assert_locked(locked)  # the right password too, from an address never seen before

    # Other accounts log in as before, from the very addresses the guesses came from...
    admin_email, admin_password = login_of(SHOP, "admin")
    admin = await _login(many_addresses, admin_email, admin_password, "10.1.0")
    assert admin.status_code == 200, admin.text
    # ...and their success leaves the locked account locked.
    _assert_locked(await _login(many_addresses, email, password, "10.1.1"))

    text = await anyio.Path(log_file).read_text()
    statuses = [json.loads(line).get("status") for line in text.splitlines()]
    assert statuses.count(429) == 2
    assert email.lower() not in text.lower()


@pytest.mark.anyio
async def test_an_unknown_email_is_locked_out_exactly_the_same_way(
    many_addresses: AsyncTestClient[ClientAddressFromHeader],
) -> None:
    known, known_password = login_of(SHOP, "advisor")
    unknown = "nobody-here@desert-auto.example"
    await _fail_until_locked(many_addresses, [known], "10.2")
    await _fail_until_locked(many_addresses, [unknown], "10.3")
    known_locked = await _login(many_addresses, known, known_password, "10.4.1")
    unknown_locked = await _login(many_addresses, unknown, known_password, "10.4.2")
    _assert_locked(known_locked)
    _assert_locked(unknown_locked)
    assert known_locked.json().keys() == unknown_locked.json().keys()
    assert known_locked.json()["detail"] == unknown_locked.json()["detail"]
    assert set(known_locked.headers) - {"date"} == set(unknown_locked.headers) - {"date"}


@pytest.mark.anyio
async def test_a_successful_login_clears_the_accounts_own_failures(
    many_addresses: AsyncTestClient[ClientAddressFromHeader],
) -> None:
    email, password = login_of("lakeside-motors", "tech")
    for round_ in range(2):
        for i in range(LIMIT - 1):
            wrong = await _login(many_addresses, email, "wrong-password-1", f"10.5.{round_}.{i}")
            assert wrong.status_code == 401
        right = await _login(many_addresses, email, password, "10.5.9")
        assert right.status_code == 200, (round_, right.text)


class Overlap:
    """How many password checks really run at the same moment, measured in the threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0

    def around(self, verify: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
        def counted(pass_hash: str, password: str) -> bool:
            with self._lock:
                self.running += 1
                self.calls += 1
                self.peak = max(self.peak, self.running)
            try:
                time.sleep(0.05)  # widens the overlap, so an uncapped run is sure to show it
                return verify(pass_hash, password)
            finally:
                with self._lock:
                    self.running -= 1

        return counted


def _concurrent_logins(settings: Settings, count: int) -> tuple[Overlap, list[int]]:
    """`count` logins at once. The sync test client runs the app on its own event loop, so
    requests sent from several threads are handled concurrently (the async client's
    requests would be handled one after another)."""
    email, password = login_of(SHOP, "admin")
    app = create_app(settings)
    overlap = Overlap()
    with TestClient(app=app) as client:
        guard = app.state.login_guard
        app.state.login_guard = dataclasses.replace(guard, verify=overlap.around(guard.verify))
        with ThreadPoolExecutor(count) as pool:
            responses = list(
                pool.map(
                    lambda _: client.post(TOKEN, json={"email": email, "password": password}),
                    range(count),
                )
            )
    return overlap, [r.status_code for r in responses]


def test_no_more_argon2_checks_run_at_once_than_the_setting(api_settings: Settings) -> None:
    overlap, statuses = _concurrent_logins(
        dataclasses.replace(api_settings, argon2_concurrency=2), 8
    )
    assert statuses == [200] * 8
    assert overlap.calls == 8
    assert overlap.peak == 2


def test_the_measurement_sees_overlap_beyond_the_cap(api_settings: Settings) -> None:
    """Without this, a peak of 2 above could mean the logins never overlapped at all."""
    overlap, statuses = _concurrent_logins(
        dataclasses.replace(api_settings, argon2_concurrency=8), 8
    )
    assert statuses == [200] * 8
    assert overlap.peak > 2
