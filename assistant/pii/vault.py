"""The PII vault: one sealed JSON payload per RO.

The application role cannot SELECT the sealed payload: it comes only out of
`app.pii_vault_open`, which writes the audit row first (migration 0012).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.pii.keyring import KeyRing
from assistant.pii.sealing import Sealed, seal, unseal

PURPOSE = "pii_vault"
PII_FIELDS = (
    "customer_name",
    "email",
    "phones",
    "address",
    "vin",
    "license_plate",
    "payment_method",
)


def seal_payload(ring: KeyRing, tenant_id: UUID, ro_id: UUID, payload: dict[str, Any]) -> Sealed:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return seal(ring, PURPOSE, tenant_id, ro_id, body)


def open_payload(ring: KeyRing, tenant_id: UUID, ro_id: UUID, sealed: Sealed) -> dict[str, Any]:
    payload = json.loads(unseal(ring, PURPOSE, tenant_id, ro_id, sealed))
    if not isinstance(payload, dict):
        raise TypeError("vault payload is not a JSON object")
    return payload


async def store(session: AsyncSession, tenant_id: UUID, ro_id: UUID, sealed: Sealed) -> None:
    stmt = insert(t.pii_vault).values(
        tenant_id=tenant_id,
        ro_id=ro_id,
        key_ref=sealed.key_ref,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[t.pii_vault.c.tenant_id, t.pii_vault.c.ro_id],
            # The values again, not EXCLUDED.*: reading EXCLUDED.nonce needs SELECT on the
            # column, which the application role no longer has.
            set_={
                "key_ref": sealed.key_ref,
                "nonce": sealed.nonce,
                "ciphertext": sealed.ciphertext,
                "updated_at": func.now(),
            },
        )
    )


async def remove(session: AsyncSession, tenant_id: UUID, ro_id: UUID) -> None:
    await session.execute(
        delete(t.pii_vault).where(
            t.pii_vault.c.tenant_id == tenant_id, t.pii_vault.c.ro_id == ro_id
        )
    )


@dataclass(frozen=True, slots=True)
class VaultRead:
    """The database's decision: refused (role, or no such RO here), or allowed with the
    sealed payload, which is None when the RO has no PII stored."""

    allowed: bool
    sealed: Sealed | None = field(default=None, repr=False)


_OPEN = text(
    "SELECT key_ref, nonce, ciphertext FROM app.pii_vault_open("
    "CAST(:ro_id AS uuid), CAST(:fields AS text[]), :purpose, :request_id,"
    " CAST(:ip AS inet), :user_agent)"
)


async def fetch_audited(
    session: AsyncSession, ro_id: UUID, fields: Sequence[str], purpose: str, meta: RequestMeta
) -> VaultRead:
    """The database checks the context's role and writes the pii.reveal row (allowed or
    denied) itself, so there is no path to a ciphertext that leaves no trace."""
    rows = (
        await session.execute(
            _OPEN,
            {
                "ro_id": ro_id,
                "fields": list(fields),
                "purpose": purpose,
                **meta.audit_columns(),
            },
        )
    ).all()
    if not rows:
        return VaultRead(allowed=False)
    key_ref, nonce, ciphertext = rows[0]
    if key_ref is None:
        return VaultRead(allowed=True)
    return VaultRead(allowed=True, sealed=Sealed(key_ref, bytes(nonce), bytes(ciphertext)))


_ROTATION_BATCH = text(
    "SELECT ro_id, key_ref, nonce, ciphertext FROM app.pii_vault_rotation_batch("
    ":active, CAST(:after AS uuid), :limit, :verify, :request_id, CAST(:ip AS inet),"
    " :user_agent)"
)


async def rotation_batch(
    session: AsyncSession,
    active_key_ref: str,
    after: UUID | None,
    limit: int,
    *,
    verify: bool,
    meta: RequestMeta,
) -> list[tuple[UUID, Sealed]]:
    """Rotation reads every payload, so it too goes through the database, ADMIN only, with
    one pii.rotate audit row per batch. Without `verify`: rows not on the active key, locked
    for this transaction; with it: every row, to prove they all decrypt."""
    rows = await session.execute(
        _ROTATION_BATCH,
        {
            "active": active_key_ref,
            "after": after,
            "limit": limit,
            "verify": verify,
            **meta.audit_columns(),
        },
    )
    return [(UUID(str(r[0])), Sealed(r[1], bytes(r[2]), bytes(r[3]))) for r in rows]
