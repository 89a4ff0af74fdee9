"""The PII vault: one sealed JSON payload per RO, readable by ADMIN and PII_APPROVED only."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

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
            set_={
                "key_ref": stmt.excluded.key_ref,
                "nonce": stmt.excluded.nonce,
                "ciphertext": stmt.excluded.ciphertext,
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


async def fetch(session: AsyncSession, tenant_id: UUID, ro_id: UUID) -> Sealed | None:
    row = (
        await session.execute(
            select(t.pii_vault.c.key_ref, t.pii_vault.c.nonce, t.pii_vault.c.ciphertext).where(
                t.pii_vault.c.tenant_id == tenant_id, t.pii_vault.c.ro_id == ro_id
            )
        )
    ).first()
    return Sealed(row[0], bytes(row[1]), bytes(row[2])) if row else None
