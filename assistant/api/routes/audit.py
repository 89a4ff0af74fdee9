"""The audit log, for a shop's ADMIN: search, export, verify and anchor the hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.params import FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.api.deps import provide_admin
from assistant.api.errors import error_responses
from assistant.api.openapi import BEARER, NO_NUL, OptionalBody
from assistant.api.strict_body import strict_json_body
from assistant.audit import anchor as anchors
from assistant.audit import service as audit
from assistant.audit.service import AuditFilter, Outcome
from assistant.auth.caller import Caller
from assistant.errors import Unprocessable

EXPORT_LIMIT = 100_000
MAX_SEQ = 2**53  # the largest integer every JSON client reads exactly
# Litestar adds `; charset=utf-8` to text/* itself.
MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
Action = Annotated[str | None, Parameter(max_length=100, pattern=NO_NUL)]
# msgspec also reads a number as Unix time in seconds (year 1 to 9999).
When = Annotated[
    datetime | None,
    Parameter(
        schema_extra={
            "one_of": None,
            "any_of": [
                Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
                Schema(type=OpenAPIType.NUMBER, minimum=-62_135_596_800, maximum=253_402_300_799),
                Schema(type=OpenAPIType.NULL),
            ],
        }
    ),
]
HEX_256 = msgspec.Meta(pattern=anchors.HEX_256.pattern)


class SignedAnchor(msgspec.Struct, forbid_unknown_fields=True):
    """A chain head signed with the key ring, as `ro-assistant audit anchor` writes it."""

    format: int
    tenant_id: UUID
    tenant: Annotated[str, msgspec.Meta(max_length=63)]
    seq: Annotated[int, msgspec.Meta(ge=0)]
    hash: Annotated[str, HEX_256]
    created_at: Annotated[str, msgspec.Meta(max_length=64)]
    key_ref: Annotated[str, msgspec.Meta(pattern=anchors.KEY_REF.pattern)]
    mac: Annotated[str, HEX_256]


class VerifyIn(msgspec.Struct, forbid_unknown_fields=True):
    anchor: SignedAnchor | None = None


class VerifyOut(msgspec.Struct):
    ok: bool
    rows: int
    first_broken_seq: int | None
    problem: str | None
    anchor: SignedAnchor | None


def _filter(
    actor: UUID | None,
    action: str | None,
    ro_id: UUID | None,
    outcome: Literal["allowed", "denied"] | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    return AuditFilter(
        actor_user_id=actor,
        action=action,
        object_id=str(ro_id) if ro_id else None,
        outcome=Outcome(outcome) if outcome else None,
        since=since,
        until=until,
    )


@dataclass
class ExportOperation(Operation):
    """The export is CSV or JSON Lines, as `format` asks."""

    def __post_init__(self) -> None:
        assert self.responses is not None
        ok = self.responses["200"]
        assert isinstance(ok, OpenAPIResponse)
        ok.content = {
            media: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            for media in MEDIA.values()
        }


class AuditController(Controller):
    path = "/api/v1/audit-log"
    tags = ["admin"]
    dependencies = {"admin": Provide(provide_admin)}
    security = BEARER
    before_request = staticmethod(strict_json_body)

    @get("/", responses=error_responses(400, 401, 403, 429))
    async def search(
        self,
        db_session: NamedDependency[AsyncSession],
        admin: NamedDependency[Caller],
        actor: FromQuery[UUID | None] = None,
        action: Action = None,
        ro_id: FromQuery[UUID | None] = None,
        outcome: FromQuery[Literal["allowed", "denied"] | None] = None,
        since: When = None,
        until: When = None,
        after_seq: Annotated[int, Parameter(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Oldest first; pass `next_after_seq` back as `after_seq` for the next page."""
        flt = _filter(actor, action, ro_id, outcome, since, until)
        items = await audit.rows(db_session, flt, limit=limit + 1, after_seq=after_seq)
        page = items[:limit]
        more = len(items) > limit
        return {"items": page, "next_after_seq": page[-1]["seq"] if more and page else None}

    @get(
        "/export",
        operation_class=ExportOperation,
        responses=error_responses(400, 401, 403, 429),
    )
    async def export(
        self,
        db_session: NamedDependency[AsyncSession],
        admin: NamedDependency[Caller],
        format: FromQuery[Literal["csv", "jsonl"]] = "jsonl",
        actor: FromQuery[UUID | None] = None,
        action: Action = None,
        ro_id: FromQuery[UUID | None] = None,
        outcome: FromQuery[Literal["allowed", "denied"] | None] = None,
        since: When = None,
        until: When = None,
    ) -> Response[str]:
        flt = _filter(actor, action, ro_id, outcome, since, until)
        items = await audit.rows(db_session, flt, limit=EXPORT_LIMIT)
        body = audit.to_csv(items) if format == "csv" else audit.to_jsonl(items)
        return Response(
            body,
            media_type=MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="audit-log.{format}"'},
        )

    @post(
        "/verify",
        status_code=200,
        operation_class=OptionalBody,
        responses=error_responses(400, 401, 403, 413, 422, 429),
    )
    async def verify(
        self,
        db_session: NamedDependency[AsyncSession],
        admin: NamedDependency[Caller],
        state: State,
        data: JSONBody[VerifyIn | None] = None,
    ) -> VerifyOut:
        """Walks the chain, checks it against `anchor` when one is sent (422 if that anchor
        was altered, signed with a key not in the ring, or is another shop's), and returns a
        signed anchor of the head when everything holds. Keep anchors outside the database:
        a later check against one catches a rewrite whose hashes were all recomputed."""
        given = data.anchor if data is not None else None
        try:
            against = (
                anchors.parse(msgspec.structs.asdict(given) | {"tenant_id": str(given.tenant_id)})
                if given is not None
                else None
            )
            report, signed = await anchors.take(
                db_session, state.ring, admin.ctx.tenant_id, admin.slug, against
            )
        except anchors.AnchorRefused as exc:
            raise Unprocessable(str(exc)) from None
        return VerifyOut(
            ok=report.ok,
            rows=report.rows,
            first_broken_seq=report.first_broken_seq,
            problem=report.problem,
            anchor=SignedAnchor(**signed.fields()) if signed else None,
        )
