"""Feedback on answers: the asker rates an answer up or down, with an optional reason that
is scrubbed of customer details like every other text a user types. Admins review it."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.auth.caller import Caller
from assistant.auth.service import user_id_of
from assistant.chat import conversations
from assistant.chat import repository as repo
from assistant.errors import NotFound

MAX_REASON = 1000
Rating = Literal["up", "down"]


async def rate(
    session: AsyncSession,
    caller: Caller,
    message_id: UUID,
    rating: Rating,
    reason: str | None,
    scrub: conversations.TitleScrub,
) -> str | None:
    """Stores the caller's rating of an answer in their own conversation (a second one
    replaces the first); returns the reason as stored."""
    answer = await repo.message(session, caller.ctx.tenant_id, message_id)
    if answer is None or answer.role != "assistant":
        raise NotFound("no such answer")
    await conversations.own(session, caller, answer.conversation_id)
    cleaned = await conversations.clean_text(session, caller, reason, scrub, MAX_REASON, "a reason")
    await repo.put_feedback(
        session, caller.ctx.tenant_id, message_id, user_id_of(caller), rating, cleaned
    )
    return cleaned
