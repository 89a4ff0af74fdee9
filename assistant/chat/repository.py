"""SQL for conversations and messages. RLS limits every statement to the caller's own rows
(ADMIN may also read others'); the tenant is named explicitly as well."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t

c = t.assistant_conversations
m = t.assistant_messages


@dataclass(frozen=True, slots=True)
class Conversation:
    conversation_id: UUID
    user_id: UUID
    title: str | None
    status: str
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def sort_key(self) -> datetime:
        return self.last_message_at or self.created_at


@dataclass(frozen=True, slots=True)
class Message:
    message_id: UUID
    conversation_id: UUID
    user_id: UUID
    role: str
    status: str
    content: str
    error: str | None
    citations: list[dict[str, Any]]
    model: str | None
    response_id: str | None
    prompt_name: str | None
    prompt_version: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int | None
    retrieval_trace: dict[str, Any] | None
    metadata: dict[str, Any]
    created_at: datetime


_CONVERSATION = (
    c.c.conversation_id,
    c.c.user_id,
    c.c.title,
    c.c.status,
    c.c.last_message_at,
    c.c.created_at,
    c.c.updated_at,
)
_MESSAGE = tuple(m.c[name] for name in Message.__slots__)
_ACTIVITY = func.coalesce(c.c.last_message_at, c.c.created_at)


async def create(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, title: str | None
) -> Conversation:
    row = (
        await session.execute(
            insert(c)
            .values(tenant_id=tenant_id, user_id=user_id, title=title)
            .returning(*_CONVERSATION)
        )
    ).one()
    return Conversation(*row)


async def get(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, *, lock: bool = False
) -> Conversation | None:
    """With `lock`, a concurrent delete waits for this transaction (only the owner's rows
    can be locked: RLS lets nobody else update them)."""
    query = select(*_CONVERSATION).where(
        c.c.tenant_id == tenant_id, c.c.conversation_id == conversation_id
    )
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return Conversation(*row) if row else None


async def list_for_user(
    session: AsyncSession,
    tenant_id: UUID,
    user_id: UUID,
    limit: int,
    status: str | None,
    before: tuple[datetime, UUID] | None,
    title_has: str | None = None,
) -> list[Conversation]:
    """Newest activity first; `before` is the keyset cursor (activity time, id)."""
    query = select(*_CONVERSATION).where(c.c.tenant_id == tenant_id, c.c.user_id == user_id)
    if status:
        query = query.where(c.c.status == status)
    if title_has:
        query = query.where(c.c.title.icontains(title_has, autoescape=True))
    if before:
        query = query.where(tuple_(_ACTIVITY, c.c.conversation_id) < tuple_(*before))
    query = query.order_by(_ACTIVITY.desc(), c.c.conversation_id.desc()).limit(limit)
    return [Conversation(*row) for row in await session.execute(query)]


async def update_fields(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, values: dict[str, Any]
) -> Conversation | None:
    row = (
        await session.execute(
            update(c)
            .where(c.c.tenant_id == tenant_id, c.c.conversation_id == conversation_id)
            .values(**values, updated_at=func.now())
            .returning(*_CONVERSATION)
        )
    ).first()
    return Conversation(*row) if row else None


async def remove(session: AsyncSession, tenant_id: UUID, conversation_id: UUID) -> bool:
    result = await session.execute(
        delete(c).where(c.c.tenant_id == tenant_id, c.c.conversation_id == conversation_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_message(
    session: AsyncSession, tenant_id: UUID, conversation_id: UUID, values: dict[str, Any]
) -> Message:
    row = (
        await session.execute(
            insert(m)
            # clock_timestamp, not now(): a question and its answer, written in one
            # transaction, must still sort in the order they were written.
            .values(
                tenant_id=tenant_id,
                conversation_id=conversation_id,
                created_at=func.clock_timestamp(),
                **values,
            )
            .returning(*_MESSAGE)
        )
    ).one()
    await session.execute(
        update(c)
        .where(c.c.tenant_id == tenant_id, c.c.conversation_id == conversation_id)
        .values(last_message_at=func.now(), updated_at=func.now())
    )
    return Message(*row)


async def update_message(
    session: AsyncSession, tenant_id: UUID, message_id: UUID, values: dict[str, Any]
) -> Message | None:
    """None when the message is gone: its conversation was deleted while it was answered."""
    row = (
        await session.execute(
            update(m)
            .where(m.c.tenant_id == tenant_id, m.c.message_id == message_id)
            .values(**values)
            .returning(*_MESSAGE)
        )
    ).first()
    return Message(*row) if row else None


async def messages(
    session: AsyncSession,
    tenant_id: UUID,
    conversation_id: UUID,
    limit: int | None = None,
    before: UUID | None = None,
) -> list[Message]:
    """Oldest first; with `limit`, the latest `limit` of them (still oldest first), and
    with `before`, only those written before that message (the next page back)."""
    query = select(*_MESSAGE).where(
        m.c.tenant_id == tenant_id, m.c.conversation_id == conversation_id
    )
    if before is not None:
        anchor = (
            await session.execute(
                select(m.c.created_at).where(
                    m.c.tenant_id == tenant_id,
                    m.c.conversation_id == conversation_id,
                    m.c.message_id == before,
                )
            )
        ).first()
        if anchor is None:
            return []
        query = query.where(tuple_(m.c.created_at, m.c.message_id) < tuple_(anchor[0], before))
    if limit is None:
        rows = await session.execute(query.order_by(m.c.created_at, m.c.message_id))
        return [Message(*row) for row in rows]
    rows = await session.execute(
        query.order_by(m.c.created_at.desc(), m.c.message_id.desc()).limit(limit)
    )
    return [Message(*row) for row in reversed(list(rows))]


async def shop_name(session: AsyncSession, tenant_id: UUID) -> str:
    row = (
        await session.execute(select(t.tenants.c.name).where(t.tenants.c.tenant_id == tenant_id))
    ).first()
    return str(row[0]) if row else "this shop"


@dataclass(frozen=True, slots=True)
class Feedback:
    message_id: UUID
    user_id: UUID
    rating: str
    reason: str | None
    updated_at: datetime


async def put_feedback(
    session: AsyncSession,
    tenant_id: UUID,
    message_id: UUID,
    user_id: UUID,
    rating: str,
    reason: str | None,
) -> None:
    f = t.answer_feedback
    await session.execute(
        pg_insert(f)
        .values(
            tenant_id=tenant_id,
            message_id=message_id,
            user_id=user_id,
            rating=rating,
            reason=reason,
        )
        .on_conflict_do_update(
            index_elements=[f.c.tenant_id, f.c.message_id, f.c.user_id],
            set_={"rating": rating, "reason": reason, "updated_at": func.now()},
        )
    )


async def feedback_on(
    session: AsyncSession, tenant_id: UUID, message_ids: list[UUID], user_id: UUID
) -> dict[UUID, str]:
    """The user's own rating of each of these answers."""
    f = t.answer_feedback
    rows = await session.execute(
        select(f.c.message_id, f.c.rating).where(
            f.c.tenant_id == tenant_id, f.c.user_id == user_id, f.c.message_id.in_(message_ids)
        )
    )
    return {UUID(str(r[0])): str(r[1]) for r in rows}


@dataclass(frozen=True, slots=True)
class FeedbackReview:
    """A rated answer with the question before it, for a shop admin."""

    message_id: UUID
    conversation_id: UUID
    rating: str
    reason: str | None
    updated_at: datetime
    rated_by: str
    answer: str
    question: str | None
    model: str | None


async def feedback_for_review(
    session: AsyncSession, tenant_id: UUID, rating: str | None, limit: int, offset: int = 0
) -> list[FeedbackReview]:
    """Newest first; the question is the user message just before the answer."""
    f, u = t.answer_feedback, t.users
    answer = m.alias("answer")
    asked = m.alias("asked")
    previous = (
        select(asked.c.content)
        .where(
            asked.c.tenant_id == answer.c.tenant_id,
            asked.c.conversation_id == answer.c.conversation_id,
            asked.c.role == "user",
            asked.c.created_at <= answer.c.created_at,
        )
        .order_by(asked.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            f.c.message_id,
            answer.c.conversation_id,
            f.c.rating,
            f.c.reason,
            f.c.updated_at,
            u.c.email,
            answer.c.content,
            previous,
            answer.c.model,
        )
        .join(answer, answer.c.message_id == f.c.message_id)
        .join(u, (u.c.tenant_id == f.c.tenant_id) & (u.c.user_id == f.c.user_id))
        .where(f.c.tenant_id == tenant_id)
        .order_by(f.c.updated_at.desc())
        .limit(limit)
        .offset(offset)
    )
    if rating:
        query = query.where(f.c.rating == rating)
    return [FeedbackReview(*row) for row in await session.execute(query)]


async def message(session: AsyncSession, tenant_id: UUID, message_id: UUID) -> Message | None:
    row = (
        await session.execute(
            select(*_MESSAGE).where(m.c.tenant_id == tenant_id, m.c.message_id == message_id)
        )
    ).first()
    return Message(*row) if row else None
