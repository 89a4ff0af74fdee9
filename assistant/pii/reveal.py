"""The one way to read customer PII: checked by role, audited whether allowed or refused.

The database makes the decision and writes the audit row (`app.pii_vault_open`), in the
caller's transaction, before it hands over any ciphertext: if the row cannot be written the
exception propagates and nothing was read. This module only validates the request early
and decrypts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import AuditEvent, Outcome, RequestMeta, record
from assistant.db.session import DbContext, Role
from assistant.pii import vault
from assistant.pii.keyring import KeyRing
from assistant.pii.sealing import DecryptionError

ACTION = "pii.reveal"
REVEALING_ROLES = frozenset({Role.ADMIN, Role.PII_APPROVED})
MAX_PURPOSE = 200
DECRYPTION_FAILED = "decryption failed"


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
    read = await vault.fetch_audited(session, ro_id, wanted, purpose.strip(), meta)
    if not read.allowed:
        if actor.role not in REVEALING_ROLES:
            return Refused(f"role {actor.role.value} may not see customer PII")
        return Refused("no such repair order", not_found=True)
    try:
        payload = (
            {}
            if read.sealed is None
            else vault.open_payload(ring, actor.tenant_id, ro_id, read.sealed)
        )
    except (DecryptionError, ValueError, TypeError):
        # The database logged the read as allowed; the log also says no value came of it.
        await record(
            session,
            actor,
            AuditEvent(
                action=ACTION,
                outcome=Outcome.DENIED,
                object_type="repair_order",
                object_id=str(ro_id),
                pii_fields=wanted,
                purpose=DECRYPTION_FAILED,
            ),
            meta,
        )
        return Refused("the stored PII could not be decrypted")
    return Revealed({name: payload.get(name) for name in wanted})
