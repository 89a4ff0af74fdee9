"""A chat turn as one stream of typed events, from the retrieved records to the stored
answer: `Retrieved`, then `Delta`s, then `Done` or `Failed`. The stream always ends by
settling the answer row (complete, or failed with its reason), also when the client leaves
mid-answer; a route only maps events to SSE or JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio

from assistant.audit.service import RequestMeta
from assistant.chat import answers, conversations, placeholders
from assistant.chat import repository as repo
from assistant.chat.llm import Generation
from assistant.errors import AppError, NotFound, UpstreamFailed
from assistant.logging import get_logger

log = get_logger("assistant.chat")
INCOMPLETE = "the answer could not be completed; try again"
LEFT = "the client left before the answer was done"


@dataclass(frozen=True, slots=True)
class Retrieved:
    question_id: str
    message_id: str
    hits: int
    path: str | None
    citations: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Delta:
    text: str  # placeholders rendered for this reader, when the stream renders


@dataclass(frozen=True, slots=True)
class Done:
    answer: repo.Message


@dataclass(frozen=True, slots=True)
class Failed:
    error: AppError
    message_id: str | None  # None when the conversation was deleted meanwhile


Event = Retrieved | Delta | Done | Failed


async def events(
    svc: answers.ChatServices, turn: answers.Turn, meta: RequestMeta, *, render: bool = True
) -> AsyncIterator[Event]:
    """`render`: show each delta as this reader may see it (a stream to the client); a JSON
    answer is rendered afterwards from the stored text instead."""
    caller = turn.caller
    yield Retrieved(
        question_id=str(turn.question.message_id),
        message_id=str(turn.answer_id),
        hits=len(turn.hits),
        path=turn.trace.get("path"),
        citations=turn.citations,
    )
    generation = Generation(turn.model_name)
    deltas = answers.generate(svc, turn, generation)
    if render:
        cited = {str(c["ro_number"]) for c in turn.citations if c.get("ro_number")}
        message = placeholders.Renderer(svc.ring, caller, meta).message(cited)

        async def render_text(text: str) -> str:
            if "[[pii:" not in text:
                return message.plain(text)
            async with svc.db.transaction(caller.ctx) as session:
                return await message.render(session, text)

        deltas = placeholders.render_stream(deltas, render_text)
    settled = False  # the answer row is complete or failed; otherwise `finally` fails it
    try:
        async for text in deltas:
            if text:
                yield Delta(text)
        answer = await answers.finish(svc, turn, generation)
        settled = True
    except AppError as exc:
        failed = await _fail(svc, turn, exc)
        settled = True
        yield failed
        return
    except Exception:
        log.exception("answer stream failed")
        failed = await _fail(svc, turn, UpstreamFailed(INCOMPLETE))
        settled = True
        yield failed
        return
    finally:
        if not settled:  # the client left (cancelled, or the stream closed mid-answer)
            with anyio.CancelScope(shield=True):
                await _fail(svc, turn, UpstreamFailed(LEFT))
    yield Done(answer)


async def _fail(svc: answers.ChatServices, turn: answers.Turn, error: AppError) -> Failed:
    try:
        failed = await answers.fail(svc, turn, error)
    except NotFound:
        return Failed(NotFound(answers.GONE), None)
    return Failed(error, str(failed.message_id))


async def view(
    svc: answers.ChatServices, turn: answers.Turn, answer: repo.Message, meta: RequestMeta
) -> dict[str, Any]:
    """The question and its answer as the asker may see them."""
    renderer = placeholders.Renderer(svc.ring, turn.caller, meta)
    async with svc.db.transaction(turn.caller.ctx) as session:
        return {
            "question": await conversations.message_view(session, renderer, turn.question),
            "answer": await conversations.message_view(session, renderer, answer),
        }
