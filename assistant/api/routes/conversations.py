"""Conversations: create, list (newest first, keyset-paginated), read, rename, archive,
delete. Another user's conversation is a 404, except that an ADMIN may read it (audited)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.errors import error_responses
from assistant.api.openapi import BEARER, OptionalBody
from assistant.api.strict_body import strict_json_body
from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.auth.service import user_id_of
from assistant.chat import conversations as service
from assistant.chat import repository as repo


class ConversationIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=service.MAX_TITLE)] | None = None


class ConversationPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=service.MAX_TITLE)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    status: Literal["active", "archived"] | msgspec.UnsetType = msgspec.UNSET


class ConversationOut(msgspec.Struct):
    id: UUID
    title: str | None
    status: str
    created_at: str
    updated_at: str
    last_message_at: str | None
    owner_id: UUID


class ConversationPage(msgspec.Struct):
    items: list[ConversationOut]
    next_cursor: str | None


def title_scrub(state: State, meta: RequestMeta) -> service.TitleScrub:
    return service.TitleScrub(state.ring, meta, state.settings.pii_lookups_per_hour)


def out(c: repo.Conversation) -> ConversationOut:
    return ConversationOut(
        id=c.conversation_id,
        title=c.title,
        status=c.status,
        created_at=c.created_at.isoformat(),
        updated_at=c.updated_at.isoformat(),
        last_message_at=c.last_message_at.isoformat() if c.last_message_at else None,
        owner_id=c.user_id,
    )


class ConversationController(Controller):
    path = "/api/v1/conversations"
    tags = ["conversations"]
    security = BEARER
    before_request = staticmethod(strict_json_body)

    @post("/", operation_class=OptionalBody, responses=error_responses(400, 401, 413, 422, 429))
    async def create(
        self,
        db_session: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        meta: NamedDependency[RequestMeta],
        state: State,
        data: JSONBody[ConversationIn | None] = None,
    ) -> ConversationOut:
        title = data.title if data else None
        return out(await service.create(db_session, caller, title, title_scrub(state, meta)))

    @get("/", responses=error_responses(400, 401, 422, 429))
    async def list_own(
        self,
        db_session: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        # A cursor that does not match is refused by the domain (422), not here (400).
        cursor: Annotated[
            str | None, Parameter(max_length=200, schema_extra={"pattern": service.CURSOR})
        ] = None,
        status: FromQuery[Literal["active", "archived"] | None] = None,
    ) -> ConversationPage:
        before = service.decode_cursor(cursor) if cursor else None
        rows = await repo.list_for_user(
            db_session, caller.ctx.tenant_id, user_id_of(caller), limit + 1, status, before
        )
        page = rows[:limit]
        more = len(rows) > limit
        return ConversationPage(
            [out(c) for c in page], service.encode_cursor(page[-1]) if more and page else None
        )

    @get("/{conversation_id:uuid}", responses=error_responses(400, 401, 404, 429))
    async def read(
        self,
        db_session: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        meta: NamedDependency[RequestMeta],
        conversation_id: FromPath[UUID],
    ) -> ConversationOut:
        return out(await service.readable(db_session, caller, conversation_id, meta))

    @patch("/{conversation_id:uuid}", responses=error_responses(400, 401, 404, 413, 422, 429))
    async def change(
        self,
        db_session: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        meta: NamedDependency[RequestMeta],
        state: State,
        conversation_id: FromPath[UUID],
        data: JSONBody[ConversationPatch],
    ) -> ConversationOut:
        values: dict[str, Any] = {
            k: v
            for k, v in (("title", data.title), ("status", data.status))
            if v is not msgspec.UNSET
        }
        scrub = title_scrub(state, meta)
        return out(await service.change(db_session, caller, conversation_id, values, scrub))

    @delete("/{conversation_id:uuid}", responses=error_responses(400, 401, 404, 429))
    async def remove(
        self,
        db_session: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        conversation_id: FromPath[UUID],
    ) -> None:
        await service.delete(db_session, caller, conversation_id)
