"""Feedback on one answer: PUT replaces the caller's rating (up or down, optional reason)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.errors import error_responses
from assistant.api.openapi import BEARER
from assistant.api.routes.conversations import title_scrub
from assistant.api.strict_body import strict_json_body
from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.chat import feedback


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    rating: feedback.Rating
    reason: Annotated[str, msgspec.Meta(max_length=feedback.MAX_REASON)] | None = None


class FeedbackOut(msgspec.Struct):
    message_id: UUID
    rating: str
    reason: str | None


@put(
    "/api/v1/messages/{message_id:uuid}/feedback",
    status_code=200,
    tags=["messages"],
    before_request=strict_json_body,
    security=BEARER,
    responses=error_responses(400, 401, 404, 413, 422, 429),
)
async def rate_answer(
    db_session: NamedDependency[AsyncSession],
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    state: State,
    message_id: FromPath[UUID],
    data: JSONBody[FeedbackIn],
) -> FeedbackOut:
    stored = await feedback.rate(
        db_session, caller, message_id, data.rating, data.reason, title_scrub(state, meta)
    )
    return FeedbackOut(message_id, data.rating, stored)
