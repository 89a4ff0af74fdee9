"""Several server processes enforce one rate limit and one login throttle: the counts live
in PostgreSQL, not in any one process (issue 12). Real `ro-assistant serve` processes on
loopback, on the demo database."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.demo.load import demo_logins
from tests.conftest import DemoService

LIMIT = 6
LOGIN_LIMIT = 3
SERVE = [sys.executable, "-m", "assistant.cli", "serve"]
TECH = next(x for x in demo_logins("desert-auto") if x.role == "TECH")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Server:
    def __init__(self, demo: DemoService, env: dict[str, str], workers: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*SERVE, "--port", str(self.port), "--workers", str(workers)],
            env=demo.env | env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (
                self.process.stderr.read() if self.process.stderr else ""
            )
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{self.url} did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def two_servers(demo_service: DemoService) -> Iterator[tuple[Server, Server]]:
    # A secret of their own: buckets apart from every other test's on this database.
    env = {
        "RO_ASSISTANT_TOKEN_SECRET": f"shared-limits-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "RO_ASSISTANT_RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "RO_ASSISTANT_LOGIN_FAILURES_PER_ACCOUNT": str(LOGIN_LIMIT),
    }
    servers = (Server(demo_service, env, 1), Server(demo_service, env, 1))
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_two_processes_enforce_one_request_limit(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    login = httpx.post(
        a.url + "/api/v1/auth/token", json={"email": TECH.email, "password": TECH.password}
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    statuses = [
        httpx.get(server.url + "/api/v1/conversations", headers=headers).status_code
        for server in [a, b] * LIMIT
    ]
    assert statuses.count(200) == LIMIT, statuses
    assert statuses[LIMIT:] == [429] * LIMIT
    refused = httpx.get(b.url + "/api/v1/conversations", headers=headers)
    assert refused.json()["error"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"
    # Health checks are never limited.
    assert httpx.get(a.url + "/healthz").status_code == 200


def test_two_processes_enforce_one_login_throttle(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    email = TECH.email.replace("tech@", "advisor@")
    statuses = [
        httpx.post(
            server.url + "/api/v1/auth/token", json={"email": email, "password": "wrong-pass-1"}
        ).status_code
        for server in [a, b, a, b, a]
    ]
    assert statuses == [401] * LOGIN_LIMIT + [429] * 2


def test_serve_starts_the_workers_it_is_asked_for(demo_service: DemoService) -> None:
    server = Server(demo_service, {}, 2)
    try:
        server.wait_ready()
        assert len(_children(server.process.pid)) >= 2
        assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    finally:
        server.stop()
