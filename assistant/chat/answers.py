"""One turn of a conversation: keep the question, retrieve, answer, keep the answer.

The turn runs in three steps so no database transaction is held open while a model
thinks: `prepare` (one transaction: store the question and a pending answer, retrieve),
`generate` (the model or the extractive answerer; no transaction), then `finish` or
`fail` (one transaction). A failed or timed-out model leaves the question and a failed
answer with its reason, so nothing is lost and the user can ask again.

Everything stored or sent to a model is PII-free: the question is scrubbed, a VIN or
plate in it becomes a placeholder naming the RO it was found on, and retrieved text was
scrubbed at ingest.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import anyio
import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.auth.service import user_id_of
from assistant.chat import (
    conversations,
    estimate_answer,
    extractive,
    placeholders,
    prompts,
    typed_pii,
)
from assistant.chat import question as questions
from assistant.chat import repository as repo
from assistant.chat.llm import ChatModel, Generation
from assistant.db.session import Database
from assistant.errors import AppError, Conflict, NotFound, Unprocessable
from assistant.logging import get_logger
from assistant.pii.keyring import KeyRing
from assistant.repair_orders import repository as ros
from assistant.settings import Settings
from retrieval import query
from retrieval.embedders import Embedder
from retrieval.packing import PackedContext, pack
from retrieval.search import Hit
from retrieval.tokens import count_tokens

log = get_logger("assistant.chat")

MAX_QUESTION_CHARS = query.MAX_QUESTION_CHARS
HISTORY_MESSAGES = 12
K = 8
PROMPT = ("grounded_answer", "1")


@dataclass(frozen=True, slots=True)
class ChatServices:
    """What answering needs, built once per process by the app factory."""

    db: Database
    ring: KeyRing
    embedder: Embedder
    settings: Settings
    model: ChatModel | None


@dataclass(slots=True)
class Turn:
    caller: Caller
    conversation_id: UUID
    question: repo.Message
    answer_id: UUID
    hits: list[Hit]
    packed: PackedContext
    trace: dict[str, Any]
    model_name: str
    llm_messages: list[dict[str, str]] | None = None
    fixed_text: str | None = None  # extractive answers and estimate drafts
    citations: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)


def check_question(content: str) -> query.ParsedQuestion:
    """Run off the event loop by the caller: detectors over 2,000 characters are cheap but
    not free."""
    if len(content) > MAX_QUESTION_CHARS:
        raise Unprocessable(f"a question has at most {MAX_QUESTION_CHARS} characters")
    try:
        parsed = typed_pii.parse_typed(content)
    except query.QuestionError as exc:
        raise Unprocessable(str(exc)) from None
    typed_pii.check_vehicles(parsed)
    return parsed


def _history_messages(history: Sequence[repo.Message], budget: int) -> list[dict[str, str]]:
    turns: list[dict[str, str]] = []
    used = 0
    for message in reversed(history):
        if message.status != "complete" or message.role not in {"user", "assistant"}:
            continue
        cost = count_tokens(message.content)
        if used + cost > budget:
            break
        turns.append({"role": message.role, "content": message.content})
        used += cost
    return list(reversed(turns))


async def _named_ros(
    session: AsyncSession, tenant_id: UUID, answer: str, cited: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An extractive answer about an RO the question named ("the phone on RO 48211") cites
    that RO, so its details render for those who may see them."""
    have = {c["ro_number"] for c in cited}
    out = []
    for ro_number in dict.fromkeys(m[1] for m in placeholders.PLACEHOLDER.finditer(answer)):
        if ro_number in have:
            continue
        ro_id = await ros.ro_id_by_number(session, tenant_id, ro_number)
        if ro_id is not None:
            out.append(_citation(ro_id, ro_number, None, None, ""))
    return out


def _citation(
    ro_id: UUID, ro_number: str, line: str | None, day: date | None, vehicle: str
) -> dict[str, Any]:
    return {
        "ro_id": str(ro_id),
        "ro_number": ro_number,
        "line": line,
        "date": day.isoformat() if day else None,
        "vehicle": vehicle,
    }


async def prepare(
    svc: ChatServices, caller: Caller, conversation_id: UUID, content: str, meta: RequestMeta
) -> Turn:
    parsed = await anyio.to_thread.run_sync(check_question, content)
    tenant = caller.ctx.tenant_id
    settings = svc.settings
    async with svc.db.transaction(caller.ctx) as session:
        conversation = await conversations.own(session, caller, conversation_id, lock=True)
        if conversation.status == "archived":
            raise Conflict("this conversation is archived: unarchive it to continue")
        history = await repo.messages(session, tenant, conversation_id, limit=HISTORY_MESSAGES)
        stored = await typed_pii.scrub_typed(
            session, svc.ring, caller, parsed, meta, budget=settings.pii_lookups_per_hour
        )
        question = await repo.add_message(
            session,
            tenant,
            conversation_id,
            {"user_id": user_id_of(caller), "role": "user", "content": stored},
        )
        pending = await repo.add_message(
            session,
            tenant,
            conversation_id,
            {"user_id": user_id_of(caller), "role": "assistant", "status": "pending"},
        )
        asked = await questions.read(
            session,
            svc.ring,
            tenant,
            parsed,
            stored,
            earlier=questions.earlier_turns(history),
            budget=settings.history_tokens,
            model_configured=svc.model is not None,
        )
        turn = Turn(
            caller=caller,
            conversation_id=conversation_id,
            question=question,
            answer_id=pending.message_id,
            hits=[],
            packed=pack([], settings.context_tokens, settings.llm_model),
            trace={"kind": asked.kind.value, "query": asked.searched.text},
            model_name=svc.model.model if svc.model else extractive.MODEL_NAME,
        )
        if asked.kind is questions.AnswerKind.ESTIMATE:
            drafted = await estimate_answer.draft_for_chat(
                session, svc.ring, svc.embedder, caller, asked.scrubbed
            )
            if drafted is not None:
                turn.fixed_text, turn.citations, turn.metadata["estimate"] = drafted
                turn.model_name = estimate_answer.MODEL_NAME
                return turn
        result = await questions.retrieve(session, svc.embedder, tenant, asked, k=K)
        turn.hits = result.hits
        turn.packed = pack(result.hits, settings.context_tokens, settings.llm_model)
        turn.trace |= result.trace.as_dict() | {
            "hits": [
                {"ro_number": h.ro_number, "line": h.line_letter, "score": h.score}
                for h in result.hits
            ],
        }
        if asked.kind is not questions.AnswerKind.MODEL or not result.hits:
            reply = extractive.answer(
                asked.scrubbed.text,
                result.hits,
                asked.searched.ro_numbers,
                extractive.Scope.of(result.trace.filters),
                context=asked.searched.text if asked.follow_up else "",
                already_said=asked.already_said,
            )
            turn.fixed_text = reply.text
            turn.citations = [
                _citation(h.ro_id, h.ro_number, h.line_letter, h.opened_on, h.vehicle)
                for h in reply.cited
            ]
            turn.citations += await _named_ros(session, tenant, turn.fixed_text, turn.citations)
            turn.model_name = extractive.MODEL_NAME
            return turn
        system, user = prompts.load(*PROMPT, directory=settings.prompts_dir).render(
            shop_name=await repo.shop_name(session, tenant),
            context=turn.packed.text or "(no records found)",
            question=stored,
        )
        turn.llm_messages = [
            {"role": "system", "content": system},
            *_history_messages(history, settings.history_tokens),
            {"role": "user", "content": user},
        ]
        turn.citations = [
            _citation(c.ro_id, c.ro_number, c.line, c.date, c.vehicle)
            for c in turn.packed.citations
        ]
        return turn


async def generate(svc: ChatServices, turn: Turn, generation: Generation) -> AsyncIterator[str]:
    """The raw answer, placeholders unrendered, as it is produced."""
    if turn.fixed_text is not None:
        for line in turn.fixed_text.splitlines(keepends=True):
            generation.text.append(line)
            yield line
        return
    assert svc.model is not None
    assert turn.llm_messages is not None
    async for delta in svc.model.stream(turn.llm_messages, generation):
        yield delta


GONE = "the conversation was deleted while the answer was being written"


SETTLE_FOR_S = 20.0


async def _update(svc: ChatServices, turn: Turn, values: dict[str, Any]) -> repo.Message:
    """Settles the answer row. The question and its pending answer are already committed,
    so a database that drops out now would leave a half-written turn: the write is retried
    (a connection at a time, with backoff) for up to SETTLE_FOR_S seconds first."""
    deadline = time.monotonic() + SETTLE_FOR_S
    pause = 0.1
    while True:
        try:
            async with svc.db.transaction(turn.caller.ctx) as session:
                message = await repo.update_message(
                    session, turn.caller.ctx.tenant_id, turn.answer_id, values
                )
            break
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError):
            if time.monotonic() + pause > deadline:
                raise
            log.warning("answer not settled yet: the database is not answering; retrying")
            await anyio.sleep(pause)
            pause = min(pause * 2, 2.0)
    if message is None:
        raise NotFound(GONE)
    return message


async def finish(svc: ChatServices, turn: Turn, generation: Generation) -> repo.Message:
    uses_prompt = turn.llm_messages is not None
    values = {
        "status": "complete",
        # PostgreSQL text cannot hold NUL, whatever a model sends.
        "content": "".join(generation.text).replace("\x00", ""),
        "citations": turn.citations,
        "model": turn.model_name,
        "response_id": generation.response_id,
        "prompt_name": PROMPT[0] if uses_prompt else None,
        "prompt_version": PROMPT[1] if uses_prompt else None,
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "latency_ms": round((time.perf_counter() - turn.started) * 1000),
        "retrieval_trace": turn.trace,
        "metadata": turn.metadata,
    }
    return await _update(svc, turn, values)


async def fail(svc: ChatServices, turn: Turn, error: AppError) -> repo.Message:
    values = {
        "status": "failed",
        "error": error.message,
        "model": turn.model_name,
        "prompt_name": PROMPT[0],
        "prompt_version": PROMPT[1],
        "latency_ms": round((time.perf_counter() - turn.started) * 1000),
        "retrieval_trace": turn.trace,
        "citations": turn.citations,
    }
    return await _update(svc, turn, values)
