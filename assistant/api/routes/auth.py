"""Logging in: email and password (and the shop's slug when the email is in several)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post
from litestar.datastructures import State
from litestar.params import JSONBody

from assistant.api.errors import error_responses
from assistant.api.openapi import NO_NUL, documented
from assistant.api.strict_body import strict_json_body
from assistant.auth import service as auth


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[
        str, msgspec.Meta(min_length=3, max_length=320, extra_json_schema=documented(NO_NUL))
    ]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=63)] | None = None


class TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


@post(
    "/api/v1/auth/token",
    status_code=200,
    tags=["auth"],
    before_request=strict_json_body,
    responses=error_responses(400, 401, 409, 413, 422, 429),
)
async def issue_token(data: JSONBody[TokenRequest], state: State) -> TokenResponse:
    """A short-lived bearer token. Role and shop are read from the user record on every
    request, so a disabled account or a changed role takes effect at once. After too many
    failed logins for one email (known or not) it answers 429 with Retry-After."""
    issued = await auth.login(
        state.database,
        state.login_guard,
        state.token_secret,
        state.settings.token_ttl_s,
        data.email,
        data.password,
        data.tenant,
    )
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
