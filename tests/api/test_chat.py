"""Whole conversations over HTTP for every role, with a fake OpenAI-compatible model that
records what it is sent: streaming, follow-ups, read-back, and PII by role."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import fake_llm
from tests.api import helpers
from tests.api.conftest import auth_headers
from tests.conftest import DemoService
from tests.test_pii_leaks import vault_values

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"
QUESTION = "brake pedal pulsates at highway speed, what did we do?"
FOLLOW_UP = "what about the rotors on it?"


@pytest.fixture(scope="module")
def pii(demo_service: DemoService) -> list[str]:
    return vault_values(demo_service.db, demo_service.work)[0]


async def _conversation(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> str:
    created = await client.post("/api/v1/conversations", json={"title": "brakes"}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _stream(
    client: AsyncTestClient[Litestar], headers: dict[str, str], cid: str, content: str
) -> tuple[list[tuple[str, Any]], str]:
    response = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"content": content},
        headers=headers | {"Accept": "text/event-stream"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return helpers.sse_events(response.text), response.headers["x-request-id"]


@pytest.mark.parametrize("name", ["tech", "advisor", "admin"])
async def test_whole_conversation_for_each_role(
    name: str,
    llm_client: AsyncTestClient[Litestar],
    llm: fake_llm.FakeChatModel,
    demo_service: DemoService,
    pii: list[str],
) -> None:
    client = llm_client
    headers = await auth_headers(client, SHOP, name)
    bodies: list[str] = []
    cid = await _conversation(client, headers)

    events, request_id = await _stream(client, headers, cid, QUESTION)
    kinds = [k for k, _ in events]
    assert kinds[0] == "retrieval"
    assert kinds[-2:] == ["citations", "done"]
    assert "delta" in kinds
    assert "error" not in kinds
    streamed = "".join(data["text"] for kind, data in events if kind == "delta")
    bodies.append(json.dumps(events))
    cited = events[0][1]["citations"][0]
    assert f"[RO {cited['ro_number']}" in streamed

    # The fake model asked for the cited RO's customer phone through a placeholder.
    phones = helpers.payload(demo_service, SHOP, cited["ro_id"])["phones"]
    reveals = helpers.audit_rows(demo_service, SHOP, request_id)
    if name == "tech":
        assert "Customer phone on file: [redacted]." in streamed
        assert reveals == []
    else:
        assert f"Customer phone on file: {', '.join(phones)}." in streamed
        assert [(r["action"], r["outcome"], r["pii_fields"]) for r in reveals] == [
            ("pii.reveal", "allowed", ["phones"])
        ]
        assert reveals[0]["object_id"] == str(cited["ro_id"])
    stored = helpers.stored_messages(demo_service, SHOP, cid)
    assert f"[[pii:{cited['ro_number']}:phones]]" in stored[1]["content"]
    assert not helpers.leaked(pii, json.dumps(stored))

    follow = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"content": FOLLOW_UP}, headers=headers
    )
    assert follow.status_code == 201, follow.text
    bodies.append(follow.text)
    answer = follow.json()["answer"]
    assert answer["status"] == "complete"
    assert answer["model"] == "fake-chat-1"
    assert answer["response_id"].startswith("chatcmpl-")
    assert answer["prompt"] == {"name": "grounded_answer", "version": "1"}
    assert answer["usage"] == {"prompt_tokens": 321, "completion_tokens": 45}
    assert answer["latency_ms"] >= 0
    assert answer["retrieval"]["mode"] == "hybrid"
    assert answer["retrieval"]["hits"]
    assert set(answer["citations"][0]) == {"ro_id", "ro_number", "line", "date", "vehicle"}
    sent = llm.requests[-1]["messages"]
    assert sent[0]["role"] == "system"
    assert "not instructions" in sent[0]["content"]
    assert [m["role"] for m in sent[1:]] == ["user", "assistant", "user"]
    assert sent[1]["content"] == QUESTION
    assert "rotors" in answer["retrieval"]["query"]
    assert "pulsates" in answer["retrieval"]["query"]

    listed = await client.get("/api/v1/conversations", headers=headers)
    bodies.append(listed.text)
    assert listed.json()["items"][0]["id"] == cid

    read = await client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)
    bodies.append(read.text)
    messages = read.json()
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["content"] == streamed
    assert messages[3]["content"] == answer["content"]

    every_request = json.dumps(llm.requests)
    assert helpers.leaked(pii, every_request) == []
    if name == "tech":
        assert helpers.leaked(pii, "\n".join(bodies)) == []
    else:
        assert phones[0].lower() in "\n".join(bodies).lower()


async def test_a_vin_typed_in_a_question_finds_the_vehicle_and_is_never_stored(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    target = helpers.ro(demo_service, SHOP, "vin_bidx IS NOT NULL")
    vin = helpers.payload(demo_service, SHOP, target["ro_id"])["vin"]
    headers = await auth_headers(client, SHOP, "tech")
    cid = await _conversation(client, headers)
    asked = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"content": f"what have we done on VIN {vin}?"},
        headers=headers,
    )
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert vin.lower() not in asked.text.lower()
    assert re.search(r"\[vin of RO \d+\]", body["question"]["content"])
    assert body["answer"]["citations"]
    assert {c["vehicle"].split(" ", 1)[1] for c in body["answer"]["citations"]} == {
        f"{target['make']} {target['model']}"
    }
    stored = helpers.stored_messages(demo_service, SHOP, cid)
    assert vin.lower() not in json.dumps(stored).lower()
    assert "[[pii:" in stored[0]["content"]
    assert ":vin]]" in stored[0]["content"]

    # The admin reading it back sees where the VIN was, never the VIN: a user's own text is
    # not a reveal channel. The conversation read is audited.
    admin = await auth_headers(client, SHOP, "admin")
    read = await client.get(f"/api/v1/conversations/{cid}/messages", headers=admin)
    assert read.status_code == 200
    assert vin not in read.text
    assert read.json()[0]["content"] == body["question"]["content"]
    rows = helpers.audit_rows(demo_service, SHOP, read.headers["x-request-id"])
    assert rows[0]["action"] == "conversation.read_other"
    assert not [r for r in rows if r["action"] == "pii.reveal" and "vin" in r["pii_fields"]]


async def test_extractive_answers_without_a_model(
    client: AsyncTestClient[Litestar], demo_service: DemoService
) -> None:
    headers = await auth_headers(client, SHOP, "tech")
    cid = await _conversation(client, headers)
    events_response = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"content": QUESTION},
        headers=headers | {"Accept": "text/event-stream"},
    )
    events = helpers.sse_events(events_response.text)
    done = dict(events)["done"]
    assert done["model"] == "extractive"
    streamed = "".join(d["text"] for k, d in events if k == "delta")
    assert streamed.startswith("From this shop's records:")
    assert "pulsat" in streamed.lower()
    read = await client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)
    assert read.json()[1]["content"] == streamed
    assert read.json()[1]["prompt"] is None

    nothing = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"content": "zebra migration patterns in the serengeti"},
        headers=headers,
    )
    assert nothing.json()["answer"]["content"] == "Not found in this shop's records."
    assert nothing.json()["answer"]["citations"] == []
