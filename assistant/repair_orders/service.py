"""One RO for one caller. Its customer PII is withheld unless the caller asks with a
purpose: then ADMIN and PII_APPROVED get the values and TECH a refusal, both audited in
the request's transaction (no audit row, no value)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.errors import NotFound
from assistant.pii import reveal, vault
from assistant.pii.keyring import KeyRing
from assistant.repair_orders import repository

REDACTED = "[redacted]"


class MissingRepairOrder(NotFound):
    """Not in this shop. With a purpose, the refused reveal is already audited."""


async def read(
    session: AsyncSession,
    ring: KeyRing,
    caller: Caller,
    ro_id: UUID,
    purpose: str | None,
    meta: RequestMeta,
) -> dict[str, Any]:
    header = await repository.header(session, caller.ctx.tenant_id, ro_id)
    if header is None:
        if purpose is not None:
            # An attempt to reveal is audited even when there is nothing to reveal, so
            # probing for other shops' ROs shows in the log. The caller must commit it.
            await reveal.reveal(session, ring, caller.ctx, ro_id, vault.PII_FIELDS, purpose, meta)
        raise MissingRepairOrder("no such repair order")
    body: dict[str, Any] = {**header, "ro_id": str(header["ro_id"])}
    body["lines"] = await repository.lines(session, caller.ctx.tenant_id, ro_id)
    customer: dict[str, Any] = dict.fromkeys(vault.PII_FIELDS, REDACTED)
    if purpose is None:
        body["pii"] = {"access": "withheld", "reason": "give a purpose to see customer details"}
    else:
        result = await reveal.reveal(
            session, ring, caller.ctx, ro_id, vault.PII_FIELDS, purpose, meta
        )
        if isinstance(result, reveal.Revealed):
            customer = result.values
            body["pii"] = {"access": "revealed", "purpose": purpose.strip()}
        else:
            body["pii"] = {"access": "denied", "reason": result.reason}
    body["customer"] = customer
    return body
