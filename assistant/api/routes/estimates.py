"""Estimate drafts from the shop's own past completed work; prices computed, never invented."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.chat import typed_pii
from assistant.errors import Unprocessable
from assistant.estimates.drafts import EstimateRequest
from assistant.estimates.service import draft_estimate


class Vehicle(msgspec.Struct, forbid_unknown_fields=True):
    make: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    year: Annotated[int, msgspec.Meta(ge=1900, le=2100)] | None = None


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    work: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    vehicle: Vehicle | None = None
    ro_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    vin: Annotated[str, msgspec.Meta(min_length=11, max_length=24)] | None = None


@post("/api/v1/estimates/draft", status_code=200, tags=["estimates"])
async def draft(
    db_session: NamedDependency[AsyncSession],
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    state: State,
    data: JSONBody[DraftIn],
) -> dict[str, Any]:
    given = sum(x is not None for x in (data.vehicle, data.ro_number, data.vin))
    if given != 1:
        raise Unprocessable(
            "name the vehicle one way: vehicle {year, make, model}, ro_number or vin"
        )
    if data.vin:
        budget = state.settings.pii_lookups_per_hour
        await typed_pii.vehicle_lookup_on_record(
            state.database, state.ring, caller, meta, data.vin, budget
        )
    request = EstimateRequest(
        work=data.work,
        year=data.vehicle.year if data.vehicle else None,
        make=data.vehicle.make if data.vehicle else None,
        model=data.vehicle.model if data.vehicle else None,
        ro_number=data.ro_number,
        vin=data.vin,
    )
    result = await draft_estimate(
        db_session, state.ring, state.embedder, caller.ctx.tenant_id, request
    )
    return result.as_dict()
