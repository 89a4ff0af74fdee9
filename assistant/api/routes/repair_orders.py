"""One repair order. Customer PII needs `?purpose=`: revealed to ADMIN and PII_APPROVED,
refused to TECH, audited either way."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.errors import error_response, error_responses
from assistant.api.openapi import BEARER, NOT_BLANK
from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.pii.reveal import MAX_PURPOSE
from assistant.repair_orders import service


@get(
    "/api/v1/repair-orders/{ro_id:uuid}",
    tags=["repair orders"],
    security=BEARER,
    responses=error_responses(400, 401, 404, 422, 429),
)
async def read_repair_order(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    state: State,
    ro_id: FromPath[UUID],
    # A blank purpose is the domain's to refuse (422), a NUL the database's (400).
    purpose: Annotated[
        str | None,
        Parameter(min_length=1, max_length=MAX_PURPOSE, schema_extra={"pattern": NOT_BLANK}),
    ] = None,
) -> Response[dict[str, Any]]:
    try:
        return Response(await service.read(db_session, state.ring, caller, ro_id, purpose, meta))
    except service.MissingRepairOrder as exc:
        # Answered, not raised: raising would roll back the refused reveal's audit row.
        return error_response(request, exc.status, exc.code, exc.message)
