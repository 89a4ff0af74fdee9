"""The one way to read customer PII: checked by role, audited whether allowed or refused.

The audit row is written in the caller's transaction before any value leaves this module:
if it cannot be written, the exception propagates and no value is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import AuditEvent, Outcome, RequestMeta, record
from assistant.db import tables as t
from assistant.db.session import DbContext, Role
from assistant.pii import vault
from assistant.pii.keyring import KeyRing
from assistant.pii.sealing import DecryptionError

ACTION = "pii.reveal"
REVEALING_ROLES = frozenset({Role.ADMIN, Role.PII_APPROVED})
MAX_PURPOSE = 200


class InvalidRevealRequest(ValueError):
    """The request itself is malformed (unknown fields, no purpose); nothing was read."""


@dataclass(frozen=True, slots=True)
class Revealed:
    values: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str
    not_found: bool = False


def check_request(fields: Sequence[str], purpose: str) -> tuple[str, ...]:
    unknown = sorted(set(fields) - set(vault.PII_FIELDS))
    if unknown:
        raise InvalidRevealRequest(f"unknown PII fields: {', '.join(unknown)}")
    if not fields:
        raise InvalidRevealRequest("name at least one PII field")
    if not purpose.strip() or len(purpose) > MAX_PURPOSE:
        raise InvalidRevealRequest(f"a purpose of 1-{MAX_PURPOSE} characters is required")
    return tuple(dict.fromkeys(fields))


async def reveal(
    session: AsyncSession,
    ring: KeyRing,
    actor: DbContext,
    ro_id: UUID,
    fields: Sequence[str],
    purpose: str,
    meta: RequestMeta,
) -> Revealed | Refused:
    wanted = check_request(fields, purpose)

    async def audit(outcome: Outcome) -> None:
        await record(
            session,
            actor,
            AuditEvent(
                action=ACTION,
                outcome=outcome,
                object_type="repair_order",
                object_id=str(ro_id),
                pii_fields=wanted,
                purpose=purpose.strip(),
            ),
            meta,
        )

    if actor.role not in REVEALING_ROLES:
        await audit(Outcome.DENIED)
        return Refused(f"role {actor.role.value} may not see customer PII")
    exists = (
        await session.execute(
            select(t.repair_orders.c.ro_id).where(
                t.repair_orders.c.tenant_id == actor.tenant_id, t.repair_orders.c.ro_id == ro_id
            )
        )
    ).first()
    if exists is None:
        await audit(Outcome.DENIED)
        return Refused("no such repair order", not_found=True)
    sealed = await vault.fetch(session, actor.tenant_id, ro_id)
    try:
        payload = {} if sealed is None else vault.open_payload(ring, actor.tenant_id, ro_id, sealed)
    except (DecryptionError, ValueError, TypeError):
        await audit(Outcome.DENIED)
        return Refused("the stored PII could not be decrypted")
    await audit(Outcome.ALLOWED)
    return Revealed({name: payload.get(name) for name in wanted})
