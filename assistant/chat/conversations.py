"""Conversations: a user works with their own; an ADMIN may read (never change) another
user's, and each such read is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import AuditEvent, Outcome, RequestMeta, record
from assistant.auth.caller import Caller
from assistant.auth.service import user_id_of
from assistant.chat import placeholders, typed_pii
from assistant.chat import repository as repo
from assistant.db.session import Role
from assistant.errors import NotFound, Unprocessable
from assistant.pii.keyring import KeyRing
from retrieval import query

MAX_TITLE = 200
STATUSES = ("active", "archived")
READ_OTHERS = "conversation.read_other"


_CURSOR = r"([0-9]{1,17})\.([0-9a-f]{32})"
CURSOR = rf"^(?:{_CURSOR})?$"
"""Activity time (microseconds since 1970) and id, or nothing for the first page: every
string this matches is a cursor, so the API can say exactly which strings it takes."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(conversation: repo.Conversation) -> str:
    micros = (conversation.sort_key - _EPOCH) // _MICROSECOND
    return f"{micros}.{conversation.conversation_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    found = re.fullmatch(_CURSOR, cursor)
    if found is None:
        raise Unprocessable("the cursor is not one this API gave out")
    return _EPOCH + int(found[1]) * _MICROSECOND, UUID(hex=found[2])


@dataclass(frozen=True, slots=True)
class TitleScrub:
    """What scrubbing a title needs: titles are shown as typed, so they hold markers."""

    ring: KeyRing
    meta: RequestMeta
    lookup_budget: int


async def clean_title(
    session: AsyncSession, caller: Caller, title: str | None, scrub: TitleScrub
) -> str | None:
    return await clean_text(session, caller, title, scrub, MAX_TITLE, "a title")


async def clean_text(
    session: AsyncSession,
    caller: Caller,
    text: str | None,
    scrub: TitleScrub,
    max_chars: int,
    what: str,
) -> str | None:
    """Short text a user types that is shown as typed (a title, a feedback reason): any
    customer detail in it becomes a marker before it is stored."""
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > max_chars:
        raise Unprocessable(f"{what} has at most {max_chars} characters")
    if not text:
        return None
    try:
        parsed = await anyio.to_thread.run_sync(typed_pii.parse_typed, text)
    except query.QuestionError:
        return None
    cleaned = await typed_pii.scrub_typed(
        session,
        scrub.ring,
        caller,
        parsed,
        scrub.meta,
        budget=scrub.lookup_budget,
        markers_only=True,
    )
    return " ".join(cleaned.split())[:max_chars] or None


async def readable(
    session: AsyncSession, caller: Caller, conversation_id: UUID, meta: RequestMeta
) -> repo.Conversation:
    """Own conversations; another user's only for an ADMIN, with an audit row."""
    conversation = await repo.get(session, caller.ctx.tenant_id, conversation_id)
    if conversation is None:
        raise NotFound("no such conversation")
    if conversation.user_id != caller.ctx.user_id:
        if caller.ctx.role is not Role.ADMIN:
            raise NotFound("no such conversation")
        await record(
            session,
            caller.ctx,
            AuditEvent(
                action=READ_OTHERS,
                outcome=Outcome.ALLOWED,
                object_type="conversation",
                object_id=str(conversation_id),
                purpose="admin review",
            ),
            meta,
        )
    return conversation


async def own(
    session: AsyncSession, caller: Caller, conversation_id: UUID, *, lock: bool = False
) -> repo.Conversation:
    conversation = await repo.get(session, caller.ctx.tenant_id, conversation_id, lock=lock)
    if conversation is None or conversation.user_id != caller.ctx.user_id:
        raise NotFound("no such conversation")
    return conversation


async def create(
    session: AsyncSession, caller: Caller, title: str | None, scrub: TitleScrub
) -> repo.Conversation:
    cleaned = await clean_title(session, caller, title, scrub)
    return await repo.create(session, caller.ctx.tenant_id, user_id_of(caller), cleaned)


async def change(
    session: AsyncSession,
    caller: Caller,
    conversation_id: UUID,
    values: dict[str, Any],
    scrub: TitleScrub,
) -> repo.Conversation:
    await own(session, caller, conversation_id)
    if "title" in values:
        values["title"] = await clean_title(session, caller, values["title"], scrub)
    if values.get("status") not in (None, *STATUSES):
        raise Unprocessable("status is active or archived")
    updated = await repo.update_fields(session, caller.ctx.tenant_id, conversation_id, values)
    if updated is None:
        raise NotFound("no such conversation")
    return updated


async def delete(session: AsyncSession, caller: Caller, conversation_id: UUID) -> None:
    await own(session, caller, conversation_id)
    await repo.remove(session, caller.ctx.tenant_id, conversation_id)


async def message_view(
    session: AsyncSession, renderer: placeholders.Renderer, message: repo.Message
) -> dict[str, Any]:
    """A message as this reader may see it: an answer's placeholders rendered (and
    audited) afresh for the ROs it cites; a user's own text never shows a value."""
    if message.role == "assistant":
        cited = {str(c.get("ro_number")) for c in message.citations if c.get("ro_number")}
        content = await renderer.message(cited).render(session, message.content)
    else:
        content = placeholders.user_label(message.content)
    view: dict[str, Any] = {
        "id": str(message.message_id),
        "conversation_id": str(message.conversation_id),
        "role": message.role,
        "status": message.status,
        "content": content,
        "error": message.error,
        "citations": message.citations,
        "created_at": message.created_at.isoformat(),
    }
    if message.role == "assistant":
        view |= {
            "model": message.model,
            "response_id": message.response_id,
            "prompt": (
                {"name": message.prompt_name, "version": message.prompt_version}
                if message.prompt_name
                else None
            ),
            "usage": {
                "prompt_tokens": message.prompt_tokens,
                "completion_tokens": message.completion_tokens,
            },
            "latency_ms": message.latency_ms,
            "retrieval": message.retrieval_trace,
            "estimate": message.metadata.get("estimate"),
        }
    return view
