"""A failing or slow model: the question is kept, the answer is stored as failed with its
reason, and the client gets a clear 502/504 (or an `error` event), never a 500."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.audit.service import RequestMeta
from assistant.auth.caller import caller_by_email
from assistant.chat import answers, conversations
from assistant.chat.llm import Generation
from assistant.db.session import Database
from assistant.errors import NotFound, UpstreamFailed
from assistant.pii import keyring
from assistant.settings import Settings
from tests import fake_llm
from tests.api import helpers
from tests.api.conftest import auth_headers, login_of, with_model
from tests.conftest import DemoService
from tests.samples import local_model

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


async def test_deleting_the_conversation_mid_answer_is_a_clear_404(
    api_settings: Settings, demo_service: DemoService
) -> None:
    """The turn's steps driven one by one, with the delete landing between them."""
    db = Database(demo_service.db.app_url)
    ring = keyring.load(None, demo_service.work / "data" / "keyring.json")
    svc = answers.ChatServices(db, ring, local_model(), api_settings, None)
    try:
        caller = await caller_by_email(db, login_of(SHOP, "tech")[0])
        async with db.transaction(caller.ctx) as session:
            scrub = conversations.TitleScrub(ring, RequestMeta(), 30)
            conversation = await conversations.create(session, caller, "to be deleted", scrub)
        turn = await answers.prepare(
            svc, caller, conversation.conversation_id, "brake pedal", RequestMeta()
        )
        async with db.transaction(caller.ctx) as session:
            await conversations.delete(session, caller, conversation.conversation_id)
        generation = Generation(turn.model_name)
        async for _ in answers.generate(svc, turn, generation):
            pass
        with pytest.raises(NotFound, match="deleted"):
            await answers.finish(svc, turn, generation)
        with pytest.raises(NotFound, match="deleted"):
            await answers.fail(svc, turn, UpstreamFailed("model down"))
    finally:
        await db.dispose()
