"""Messages: read a conversation's turns, or ask a question, answered as JSON or streamed
as Server-Sent Events (`Accept: text/event-stream`): `retrieval`, `delta`..., `citations`,
`done`, or `error` if the model fails. The stored answer is exactly the streamed text
(placeholders re-rendered for whoever reads it later)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.deps import provide_chat_caller
from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.chat import answers, placeholders
from assistant.chat import conversations as service
from assistant.chat import repository as repo
from assistant.chat.llm import Generation
from assistant.errors import AppError, NotFound, UpstreamFailed
from assistant.logging import get_logger

log = get_logger("assistant.chat")
PAGE = 50
MAX_PAGE = 200


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=answers.MAX_QUESTION_CHARS)]


def _event(kind: str, payload: Any) -> ServerSentEventMessage:
    return ServerSentEventMessage(event=kind, data=json.dumps(payload, default=str))


class MessageController(Controller):
    path = "/api/v1/conversations/{conversation_id:uuid}/messages"
    tags = ["messages"]

    @get("/")
    async def list_messages(
        self,
        db_session: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        meta: NamedDependency[RequestMeta],
        state: State,
        conversation_id: FromPath[UUID],
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = PAGE,
        before: FromQuery[UUID | None] = None,
    ) -> list[dict[str, Any]]:
        """The latest `limit` messages, oldest first; pass the first one's id as `before`
        for the page before it. Only the page shown is rendered (and audited)."""
        await service.readable(db_session, caller, conversation_id, meta)
        rows = await repo.messages(
            db_session, caller.ctx.tenant_id, conversation_id, limit=limit, before=before
        )
        renderer = placeholders.Renderer(state.ring, caller, meta)
        return [await service.message_view(db_session, renderer, m) for m in rows]

    @post("/", dependencies={"caller": Provide(provide_chat_caller)})
    async def ask(
        self,
        request: Request[Any, Any, Any],
        state: State,
        caller: NamedDependency[Caller],
        meta: NamedDependency[RequestMeta],
        conversation_id: FromPath[UUID],
        data: JSONBody[MessageIn],
    ) -> Response[Any]:
        """Runs without the request transaction: the question is committed before the model
        is called, so a failure or timeout never loses it."""
        svc: answers.ChatServices = state.chat
        turn = await answers.prepare(svc, caller, conversation_id, data.content, meta)
        if "text/event-stream" in request.headers.get("accept", ""):
            return ServerSentEvent(_stream(svc, turn, meta))
        generation = Generation(turn.model_name)
        try:
            async for _ in answers.generate(svc, turn, generation):
                pass
        except AppError as exc:
            failed = await answers.fail(svc, turn, exc)
            exc.extra = {"message_id": str(failed.message_id)}
            raise
        except Exception:
            await answers.fail(svc, turn, INCOMPLETE)
            raise
        answer = await answers.finish(svc, turn, generation)
        renderer = placeholders.Renderer(svc.ring, caller, meta)
        async with svc.db.transaction(caller.ctx) as session:
            body = {
                "question": await service.message_view(session, renderer, turn.question),
                "answer": await service.message_view(session, renderer, answer),
            }
        return Response(body, status_code=201)


async def _stream(
    svc: answers.ChatServices, turn: answers.Turn, meta: NamedDependency[RequestMeta]
) -> AsyncIterator[ServerSentEventMessage]:
    caller = turn.caller
    cited = {str(c["ro_number"]) for c in turn.citations if c.get("ro_number")}
    message = placeholders.Renderer(svc.ring, caller, meta).message(cited)

    async def render(text: str) -> str:
        if "[[pii:" not in text:
            return message.plain(text)
        async with svc.db.transaction(caller.ctx) as session:
            return await message.render(session, text)

    yield _event(
        "retrieval",
        {
            "question_id": str(turn.question.message_id),
            "message_id": str(turn.answer_id),
            "hits": len(turn.hits),
            "path": turn.trace.get("path"),
            "citations": turn.citations,
        },
    )
    generation = Generation(turn.model_name)
    settled = False  # the answer row is complete or failed; otherwise `finally` fails it
    try:
        async for text in placeholders.render_stream(
            answers.generate(svc, turn, generation), render
        ):
            if text:
                yield _event("delta", {"text": text})
        answer = await answers.finish(svc, turn, generation)
        settled = True
    except AppError as exc:
        event = await _failed(svc, turn, exc)
        settled = True
        yield _event("error", event)
        return
    except Exception:
        log.exception("answer stream failed")
        event = await _failed(svc, turn, INCOMPLETE)
        settled = True
        yield _event("error", event)
        return
    finally:
        if not settled:  # the client left (cancelled, or the stream closed mid-answer)
            with anyio.CancelScope(shield=True):
                await _failed(svc, turn, LEFT)
    yield _event("citations", answer.citations)
    yield _event(
        "done",
        {
            "message_id": str(answer.message_id),
            "model": answer.model,
            "usage": {
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
            },
            "latency_ms": answer.latency_ms,
        },
    )


INCOMPLETE = UpstreamFailed("the answer could not be completed; try again")
LEFT = UpstreamFailed("the client left before the answer was done")


async def _failed(svc: answers.ChatServices, turn: answers.Turn, error: AppError) -> dict[str, Any]:
    """Marks the answer failed (if its conversation still exists) and says so as an event."""
    try:
        failed = await answers.fail(svc, turn, error)
    except NotFound:
        return {"error": "not_found", "detail": answers.GONE, "message_id": None}
    return {"error": error.code, "detail": error.message, "message_id": str(failed.message_id)}
