"""Messages: read a conversation's turns, or ask a question, answered as JSON or streamed
as Server-Sent Events (`Accept: text/event-stream`): `retrieval`, `delta`..., `citations`,
`done`, or `error` if the model fails. The stored answer is exactly the streamed text
(placeholders re-rendered for whoever reads it later)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.deps import provide_chat_caller
from assistant.api.errors import error_responses
from assistant.api.openapi import BEARER, HAS_TEXT, documented
from assistant.api.strict_body import strict_json_body
from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.chat import answers, placeholders
from assistant.chat import conversations as service
from assistant.chat import repository as repo
from assistant.chat import turn as chat_turn

PAGE = 50
MAX_PAGE = 200


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    content: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=answers.MAX_QUESTION_CHARS,
            extra_json_schema=documented(HAS_TEXT),  # else "the question is empty"
        ),
    ]


STRING = Schema(type=OpenAPIType.STRING)


@dataclasses.dataclass
class AskOperation(Operation):
    """Asked with `Accept: text/event-stream`, the answer streams with status 200."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The answer as Server-Sent Events: `retrieval`, `delta`...,"
                " `citations` and `done`, or `error` if the model fails.",
                content={"text/event-stream": OpenAPIMediaType(schema=STRING)},
            ),
        }


def _event(kind: str, payload: Any) -> ServerSentEventMessage:
    return ServerSentEventMessage(event=kind, data=json.dumps(payload, default=str))


class MessageController(Controller):
    path = "/api/v1/conversations/{conversation_id:uuid}/messages"
    tags = ["messages"]
    security = BEARER
    before_request = staticmethod(strict_json_body)

    @get("/", responses=error_responses(400, 401, 404, 429))
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

    @post(
        "/",
        dependencies={"caller": Provide(provide_chat_caller)},
        operation_class=AskOperation,
        responses=error_responses(400, 401, 404, 409, 413, 422, 429, 502, 504),
    )
    async def ask(
        self,
        request: Request[Any, Any, Any],
        state: State,
        caller: NamedDependency[Caller],
        meta: NamedDependency[RequestMeta],
        conversation_id: FromPath[UUID],
        data: JSONBody[MessageIn],
        placeholders: FromQuery[Literal["render", "keep"]] = "render",
    ) -> Response[Any]:
        """Runs without the request transaction: the question is committed before the model
        is called, so a failure or timeout never loses it. `placeholders=keep` streams an
        answer's customer-detail placeholders as they are (the web app offers a Reveal
        button for each instead of revealing on sight)."""
        svc: answers.ChatServices = state.chat
        turn = await answers.prepare(svc, caller, conversation_id, data.content, meta)
        if "text/event-stream" in request.headers.get("accept", ""):
            render = placeholders == "render"
            return ServerSentEvent(_sse(chat_turn.events(svc, turn, meta, render=render)))
        async for event in chat_turn.events(svc, turn, meta, render=False):
            if isinstance(event, chat_turn.Failed):
                event.error.extra = {"message_id": event.message_id}
                raise event.error
            if isinstance(event, chat_turn.Done):
                return Response(
                    await chat_turn.view(svc, turn, event.answer, meta), status_code=201
                )
        raise AssertionError("a turn always ends in Done or Failed")


async def _sse(
    events: AsyncIterator[chat_turn.Event],
) -> AsyncIterator[ServerSentEventMessage]:
    async for event in events:
        match event:
            case chat_turn.Retrieved():
                yield _event("retrieval", dataclasses.asdict(event))
            case chat_turn.Delta(text=text):
                yield _event("delta", {"text": text})
            case chat_turn.Failed(error=error, message_id=message_id):
                yield _event(
                    "error",
                    {"error": error.code, "detail": error.message, "message_id": message_id},
                )
            case chat_turn.Done(answer=answer):
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
