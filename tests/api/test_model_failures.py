"""A failing or slow model: the question is kept, the answer is stored as failed with its
reason, and the client gets a clear 502/504 (or an `error` event), never a 500."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.settings import Settings
from tests import fake_llm
from tests.api import helpers
from tests.api.conftest import auth_headers, with_model
from tests.conftest import DemoService

pytestmark = pytest.mark.anyio
SHOP = "desert-auto"


@pytest.mark.parametrize(
    ("mode", "status", "code"), [("error", 502, "model_failed"), ("slow", 504, "model_timeout")]
)
async def test_failure_keeps_the_question_and_marks_the_answer(
    api_settings: Settings,
    llm: fake_llm.FakeChatModel,
    demo_service: DemoService,
    mode: str,
    status: int,
    code: str,
) -> None:
    llm.mode, llm.delay_s = mode, 2.5
    settings = dataclasses.replace(with_model(api_settings, llm), llm_timeout_s=1.0)
    async with AsyncTestClient(app=create_app(settings)) as client:
        headers = await auth_headers(client, SHOP, "tech")
        cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
        response = await client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"content": "check engine light P0420"},
            headers=headers,
        )
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error"] == code
        assert "try again" in body["detail"]
        stored = helpers.stored_messages(demo_service, SHOP, cid)
        assert [(m["role"], m["status"]) for m in stored] == [
            ("user", "complete"),
            ("assistant", "failed"),
        ]
        assert stored[0]["content"] == "check engine light P0420"
        assert stored[1]["error"] == body["detail"]

        streamed = await client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"content": "check engine light P0420 again"},
            headers=headers | {"Accept": "text/event-stream"},
        )
        events = helpers.sse_events(streamed.text)
        assert [k for k, _ in events] == ["retrieval", "error"]
        assert events[-1][1]["error"] == code
        listed = await client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)
        assert [m["status"] for m in listed.json()] == ["complete", "failed", "complete", "failed"]

        llm.mode = "ok"  # the user retries and it works
        retried = await client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"content": "check engine light P0420"},
            headers=headers,
        )
        assert retried.status_code == 201
        assert retried.json()["answer"]["status"] == "complete"
