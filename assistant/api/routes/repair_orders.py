"""One repair order. Customer PII needs `?purpose=`: revealed to ADMIN and PII_APPROVED,
refused to TECH, audited either way."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.pii.reveal import MAX_PURPOSE
from assistant.repair_orders import service
from assistant.search import Caller


@get("/api/v1/repair-orders/{ro_id:uuid}", tags=["repair orders"])
async def read_repair_order(
    db_session: NamedDependency[AsyncSession],
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    state: State,
    ro_id: FromPath[UUID],
    purpose: Annotated[str | None, Parameter(min_length=1, max_length=MAX_PURPOSE)] = None,
) -> dict[str, Any]:
    return await service.read(db_session, state.ring, caller, ro_id, purpose, meta)
