"""The access log: one JSON line per request with request id, tenant, user, route, status
and latency; never the question, the answer or a PII value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assistant import logging
from tests.api.conftest import auth_headers

pytestmark = pytest.mark.anyio
SECRET_QUESTION = "brake squeal on the blue truck, customer at 555-201-7781"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "service.log"
    logging.configure("INFO", path)
    yield path
    structlog.reset_defaults()


async def test_access_log_lines(client: AsyncTestClient[Litestar], log_file: Path) -> None:
    headers = await auth_headers(client, "desert-auto", "tech")
    cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
    asked = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"content": SECRET_QUESTION},
        headers=headers | {"X-Request-ID": "client-chosen-id-42"},
    )
    assert asked.headers["x-request-id"] == "client-chosen-id-42"
    text = await anyio.Path(log_file).read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    access = [x for x in lines if x.get("event") == "request"]
    assert len(access) == 3
    ask = access[-1]
    assert ask["request_id"] == "client-chosen-id-42"
    assert ask["route"] == "/api/v1/conversations/{conversation_id}/messages"
    assert ask["status"] == 201
    assert ask["latency_ms"] > 0
    assert ask["method"] == "POST"
    assert ask["tenant"]
    assert ask["user"]
    assert ask["level"] == "info"
    assert access[0]["tenant"] is None  # logging in: nobody yet
    assert "squeal" not in text
    assert "555-201-7781" not in text
    assert asked.json()["answer"]["content"][:40] not in text
