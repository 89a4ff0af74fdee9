"""Estimate drafts from the shop's own past completed work; prices computed, never invented."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from litestar import post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.errors import error_responses
from assistant.api.openapi import (
    BEARER,
    HAS_TEXT,
    NOT_BLANK,
    RO_NUMBER,
    VIN_CHARACTER,
    documented,
)
from assistant.api.strict_body import strict_json_body
from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.chat import typed_pii
from assistant.errors import Unprocessable
from assistant.estimates.drafts import EstimateRequest
from assistant.estimates.service import draft_estimate

# The domain refuses a blank name or work with a message of its own.
Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=60, extra_json_schema=documented(NOT_BLANK))
]


class Vehicle(msgspec.Struct, forbid_unknown_fields=True):
    make: Name
    model: Name
    year: Annotated[int, msgspec.Meta(ge=1900, le=2100)] | None = None


def _given(name: str, kind: OpenAPIType) -> Schema:
    return Schema(required=[name], properties={name: Schema(type=kind)})


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    work: Annotated[
        str, msgspec.Meta(min_length=1, max_length=2000, extra_json_schema=documented(HAS_TEXT))
    ]
    vehicle: Vehicle | None = None
    ro_number: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=RO_NUMBER)] | None
    ) = None
    vin: (
        Annotated[str, msgspec.Meta(min_length=11, max_length=24, pattern=VIN_CHARACTER)] | None
    ) = None

    # The vehicle is named exactly one way (checked in `draft`).
    __openapi_extra__: ClassVar[dict[str, Any]] = {
        "one_of": [
            _given("vehicle", OpenAPIType.OBJECT),
            _given("ro_number", OpenAPIType.STRING),
            _given("vin", OpenAPIType.STRING),
        ]
    }


@post(
    "/api/v1/estimates/draft",
    status_code=200,
    tags=["estimates"],
    before_request=strict_json_body,
    security=BEARER,
    responses=error_responses(400, 401, 404, 413, 422, 429),
)
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
