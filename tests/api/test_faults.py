"""Faults under load (issue 12): the database stopped and started again, the connection
pool exhausted, clients leaving mid-stream, a model that hangs. Each on a PostgreSQL server
of its own (the embedded one, in a temporary folder), so stopping it touches no other
test; the service runs as the application role against it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import psycopg
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.chat import turn as chat_turn
from assistant.db import migrate
from assistant.db.conninfo import APP_ROLE, OWNER_ROLE
from assistant.db.embedded import EmbeddedPostgres
from assistant.db.session import Database, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii import keyring
from assistant.settings import Settings
from assistant.tenants import service as tenants
from tests import fake_llm, samples
from tests.db.seed import set_context

pytestmark = pytest.mark.anyio

EMAIL = "tech@faults.example"
PASSWORD = "faults-tech-password-1"


@dataclasses.dataclass(frozen=True)
class Outage:
    server: EmbeddedPostgres
    settings: Settings


@pytest.fixture(scope="module")
def outage(settings: Settings) -> Iterator[Outage]:
    # Not under pytest's temporary folder, which another pytest run may prune meanwhile.
    folder = Path(tempfile.mkdtemp(prefix="ro-assistant-faults-"))
    server = EmbeddedPostgres(folder / "data")
    server.start()
    owner, app = server.url(OWNER_ROLE), server.url(APP_ROLE)
    migrate.migrate(owner, settings.migrations_dir, echo=lambda _line: None)

    async def seed() -> None:
        db = Database(app)
        try:
            shop = await tenants.create_tenant(db, "faults", "Faults Garage")
            await tenants.create_user(db, shop, EMAIL, Role.TECH, PASSWORD)
            # A few ROs, so that questions find records and go to the model.
            ros = [samples.record(ro_number=str(70000 + n)) for n in range(3)]
            await ingest_bytes(
                db,
                keyring.load(settings.keyring_json, settings.keyring_path),
                samples.local_model(),
                shop.tenant_id,
                "faults.jsonl",
                "\n".join(json.dumps(r) for r in ros).encode(),
            )
        finally:
            await db.dispose()

    asyncio.run(seed())
    local = dataclasses.replace(
        settings,
        database_url=owner,
        app_database_url=app,
        rate_limit_per_minute=100_000,
        db_pool_size=10,
        db_pool_timeout_s=1.0,
    )
    try:
        yield Outage(server, local)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def _login(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    token = await client.post("/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _conversation(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> str:
    created = await client.post("/api/v1/conversations", json={}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _unsettled(outage: Outage) -> int:
    """Answers still pending, or questions without an answer: a half-written turn."""
    with psycopg.connect(outage.settings.app_database_url or "") as conn:
        row = conn.execute("SELECT tenant_id FROM app.directory_tenant('faults')").fetchone()
        assert row is not None
        set_context(conn, row[0], "ADMIN")
        counts = conn.execute(
            "SELECT count(*) FILTER (WHERE role = 'assistant' AND status = 'pending'),"
            " count(*) FILTER (WHERE role = 'user'),"
            " count(*) FILTER (WHERE role = 'assistant')"
            " FROM app.assistant_messages"
        ).fetchone()
    assert counts is not None
    pending, questions, answers = counts
    return int(pending) + abs(int(questions) - int(answers))


async def test_a_database_outage_is_503_and_the_service_recovers_by_itself(
    outage: Outage,
) -> None:
    async with AsyncTestClient(app=create_app(outage.settings)) as client:
        headers = await _login(client)
        conversation = await _conversation(client, headers)
        ask = f"/api/v1/conversations/{conversation}/messages"
        statuses: list[int] = []
        stop = anyio.Event()

        async def load() -> None:
            while not stop.is_set():
                response = await client.post(ask, json={"content": "brake noise"}, headers=headers)
                statuses.append(response.status_code)
                if response.status_code == 503:
                    body = response.json()
                    assert body["error"] == "unavailable"
                    assert "try again" in body["detail"]
                    assert int(response.headers["retry-after"]) >= 1
                await anyio.sleep(0.02)

        async def until(seen: int, since: int) -> None:
            """Waits for the load to see status `seen` after answer number `since`: the
            machine may be slow, so the outage lasts until it has been seen, not a fixed time."""
            with anyio.fail_after(120):
                for _ in iter(lambda: seen in statuses[since:], True):
                    await anyio.sleep(0.05)

        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(load)
            await until(201, 0)
            await anyio.to_thread.run_sync(outage.server.stop)
            stopped_at = len(statuses)
            await until(503, stopped_at)
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["database"] == "unreachable"
            assert (await client.get("/healthz")).status_code == 200
            await anyio.to_thread.run_sync(outage.server.start)
            await until(201, len(statuses))
            stop.set()
        assert set(statuses) <= {201, 503}, statuses
        # Recovered without a restart: the pool drops dead connections and opens new ones.
        after = await client.post(ask, json={"content": "brake noise"}, headers=headers)
        assert after.status_code == 201, after.text
        ready = (await client.get("/readyz")).json()
        assert ready["database"] == "ok"
        assert ready["status"] == "ready"
    assert _unsettled(outage) == 0


async def test_an_exhausted_pool_is_a_quick_503_not_a_hang(outage: Outage) -> None:
    async with AsyncTestClient(app=create_app(outage.settings)) as client:
        headers = await _login(client)
        database: Database = client.app.state.database
        held = [await database.engine.connect() for _ in range(database.capacity)]
        try:
            started = time.monotonic()
            busy = await client.get("/api/v1/conversations", headers=headers)
            assert time.monotonic() - started < 5
            assert busy.status_code == 503, busy.text
            assert busy.json()["error"] == "unavailable"
            assert "busy" in busy.json()["detail"]
            assert int(busy.headers["retry-after"]) >= 1
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"] == "pool exhausted"
            assert ready.json()["connections_in_use"] == database.capacity
        finally:
            for conn in held:
                await conn.close()
        assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 200


@pytest.fixture
def slow_model() -> Iterator[fake_llm.FakeChatModel]:
    model, stop = fake_llm.start()
    yield model
    stop()


@pytest.fixture
async def model_client(
    outage: Outage, slow_model: fake_llm.FakeChatModel
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = dataclasses.replace(
        outage.settings,
        llm_model="fake-chat-1",
        llm_base_url=slow_model.base_url,
        llm_api_key="sk-test",
        llm_timeout_s=1.0,
        llm_max_retries=0,
        db_pool_size=10,
    )
    async with AsyncTestClient(app=create_app(settings), timeout=30) as client:
        yield client


@contextlib.contextmanager
def live(settings: Settings) -> Iterator[tuple[str, Litestar]]:
    """The app on a real uvicorn server on loopback: real sockets, so a client that goes
    away is a disconnect the server sees."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


async def test_two_hundred_clients_leaving_mid_stream_leave_every_answer_settled(
    outage: Outage, slow_model: fake_llm.FakeChatModel
) -> None:
    slow_model.chunk_delay_s = 0.3
    settings = dataclasses.replace(
        outage.settings,
        llm_model="fake-chat-1",
        llm_base_url=slow_model.base_url,
        llm_api_key="sk-test",
        llm_timeout_s=10.0,
        llm_max_retries=0,
        db_pool_timeout_s=60.0,  # 200 at once queue for connections here; that is not the test
    )
    with live(settings) as (url, app):
        limits = httpx.Limits(max_connections=250)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
            token = await client.post(
                "/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            conversations = []
            for _ in range(200):
                created = await client.post("/api/v1/conversations", json={}, headers=headers)
                conversations.append(created.json()["id"])
            sse = headers | {"Accept": "text/event-stream"}
            left = 0

            async def leave_mid_stream(conversation: str) -> None:
                nonlocal left
                url = f"/api/v1/conversations/{conversation}/messages"
                body = {"content": "brakes?"}
                async with client.stream("POST", url, json=body, headers=sse) as r:
                    assert r.status_code == 201
                    async for line in r.aiter_lines():
                        if line.startswith("event: delta"):
                            left += 1
                            return  # the client goes away with the answer half sent

            with anyio.fail_after(600):
                async with anyio.create_task_group() as tasks:
                    for conversation in conversations:
                        tasks.start_soon(leave_mid_stream, conversation)
            assert left == 200
            # Each abandoned stream settles its answer as it closes (shielded).
            for _ in range(60):
                if not _unsettled(outage):
                    break
                await anyio.sleep(0.5)
            assert _unsettled(outage) == 0
            database: Database = app.state.database
            assert database.connections_in_use() == 0
            slow_model.chunk_delay_s = 0.0
            done = await client.post(
                f"/api/v1/conversations/{conversations[0]}/messages",
                json={"content": "and now?"},
                headers=headers,
            )
            assert done.status_code == 201, done.text
    with psycopg.connect(outage.settings.app_database_url or "") as conn:
        row = conn.execute("SELECT tenant_id FROM app.directory_tenant('faults')").fetchone()
        assert row is not None
        set_context(conn, row[0], "ADMIN")
        failed = conn.execute(
            "SELECT count(*) FROM app.assistant_messages WHERE role = 'assistant'"
            " AND status = 'failed' AND error = %s",
            [chat_turn.LEFT],
        ).fetchone()
    assert failed is not None
    assert failed[0] >= 150  # the streams were cut, not finished (a few may finish first)


async def test_a_model_that_hangs_past_its_timeout_fails_the_answer_and_readyz_says_so(
    outage: Outage, slow_model: fake_llm.FakeChatModel, model_client: AsyncTestClient[Litestar]
) -> None:
    slow_model.mode, slow_model.delay_s = "slow", 12.0  # the timeout is 1 s
    client = model_client
    headers = await _login(client)
    conversation = await _conversation(client, headers)
    started = time.monotonic()
    hung = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "brakes?"},
        headers=headers,
    )
    assert time.monotonic() - started < 10  # the timeout, not the model, ended it
    assert hung.status_code == 504, hung.text
    assert hung.json()["error"] == "model_timeout"
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ready"  # the service still takes questions
    assert ready["model"]["status"] == "failing"
    assert ready["model"]["last_error"] == "timeout"
    slow_model.reset()
    answered = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "brakes?"},
        headers=headers,
    )
    assert answered.status_code == 201, answered.text
    assert (await client.get("/readyz")).json()["model"]["status"] == "ok"
    assert _unsettled(outage) == 0


def test_fault_tests_use_a_server_of_their_own(outage: Outage, settings: Settings) -> None:
    """Stopping this server must never stop the one every other test uses."""
    assert outage.server.pgdata != EmbeddedPostgres(settings.data_dir).pgdata
    assert outage.server.is_running()
