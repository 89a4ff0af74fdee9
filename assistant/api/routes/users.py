"""User management for a shop's ADMIN: list, create, change role, disable or enable."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import anyio
import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.deps import provide_admin
from assistant.api.errors import error_responses
from assistant.api.openapi import BEARER, EMAIL_ADDRESS, documented
from assistant.api.strict_body import strict_json_body
from assistant.auth.caller import Caller
from assistant.db.session import Role
from assistant.errors import Unprocessable
from assistant.tenants import repository, shop_users
from assistant.tenants.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from assistant.tenants.repository import User
from assistant.tenants.service import EMAIL

RoleName = Literal["TECH", "ADMIN", "PII_APPROVED"]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    # "not an email address" below; a NUL is the database's to refuse (400).
    email: Annotated[
        str,
        msgspec.Meta(min_length=3, max_length=320, extra_json_schema=documented(EMAIL_ADDRESS)),
    ]
    role: RoleName
    password: Annotated[str, msgspec.Meta(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    role: str
    is_active: bool


def out(user: User) -> UserOut:
    return UserOut(user.user_id, user.email, user.role.value, user.is_active)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["admin"]
    dependencies = {"admin": Provide(provide_admin)}
    security = BEARER
    before_request = staticmethod(strict_json_body)

    @get("/", responses=error_responses(401, 403, 429))
    async def list_users(
        self, db_session: NamedDependency[AsyncSession], admin: NamedDependency[Caller]
    ) -> list[UserOut]:
        return [out(u) for u in await repository.list_users(db_session, admin.ctx.tenant_id)]

    @post("/", responses=error_responses(400, 401, 403, 409, 413, 422, 429))
    async def create_user(
        self,
        db_session: NamedDependency[AsyncSession],
        admin: NamedDependency[Caller],
        data: JSONBody[UserIn],
    ) -> UserOut:
        email = data.email.strip().lower()
        if not EMAIL.match(email):
            raise Unprocessable("not an email address")
        pass_hash = await anyio.to_thread.run_sync(hash_password, data.password)
        return out(await shop_users.create(db_session, admin, email, Role(data.role), pass_hash))

    @patch("/{user_id:uuid}", responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429))
    async def change_user(
        self,
        db_session: NamedDependency[AsyncSession],
        admin: NamedDependency[Caller],
        user_id: FromPath[UUID],
        data: JSONBody[UserPatch],
    ) -> UserOut:
        values: dict[str, object] = {}
        if data.role is not msgspec.UNSET:
            values["role"] = data.role
        if data.is_active is not msgspec.UNSET:
            values["is_active"] = data.is_active
        return out(await shop_users.change(db_session, admin, user_id, values))
