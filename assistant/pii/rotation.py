"""Re-encrypting every sealed row to the active key, in small committed batches.

Each batch is its own transaction, so an interrupted rotation loses nothing and the next run
carries on where it stopped. It ends by proving the result: no row left on an old key, and
every row decrypts.

Vault payloads are read through `app.pii_vault_rotation_batch` (ADMIN only, one audit row
per batch): the application role cannot SELECT them. Stored documents are read directly,
which RLS allows an ADMIN only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.pii import documents, vault
from assistant.pii.keyring import KeyRing
from assistant.pii.sealing import DecryptionError, Sealed, seal, unseal

VERIFY_BATCH = 500


@dataclass(frozen=True, slots=True)
class _Target:
    """A table of sealed values: where the key reference, nonce and ciphertext live."""

    table: Table
    id_column: str
    key_ref: str
    nonce: str
    ciphertext: str
    purpose: str


TARGETS = (
    _Target(t.pii_vault, "ro_id", "key_ref", "nonce", "ciphertext", vault.PURPOSE),
    _Target(
        t.documents,
        "doc_id",
        "content_key_ref",
        "content_nonce",
        "content_ciphertext",
        documents.PURPOSE,
    ),
)


@dataclass(frozen=True, slots=True)
class RotationReport:
    rotated: int
    undecryptable: int
    remaining_on_old_keys: int
    verified: int

    @property
    def ok(self) -> bool:
        return self.remaining_on_old_keys == 0 and self.undecryptable == 0


async def rotate_tenant(
    db: Database,
    ring: KeyRing,
    tenant_id: UUID,
    *,
    batch_size: int = 200,
    after_batch: Callable[[int], None] | None = None,
    meta: RequestMeta | None = None,
) -> RotationReport:
    """`meta` goes on the audit rows; by default one request id names the whole run."""
    meta = meta or RequestMeta(request_id=f"keys-rotate-{uuid.uuid4().hex}")
    ctx = DbContext(tenant_id=tenant_id, role=Role.ADMIN)
    rotated = failed = 0
    for target in TARGETS:
        last_id: UUID | None = None
        while True:
            async with db.transaction(ctx) as session:
                done, bad, last_id = await _rotate_batch(
                    session, ring, tenant_id, target, batch_size, last_id, meta
                )
            rotated += done
            failed += bad
            if after_batch is not None and done:
                after_batch(done)
            if done + bad < batch_size:
                break
    async with db.transaction(ctx) as session:
        remaining = sum([await _count_old(session, ring, tenant_id, target) for target in TARGETS])
        verified, undecryptable = await _verify(session, ring, tenant_id, meta)
    return RotationReport(rotated, max(failed, undecryptable), remaining, verified)


async def _read_batch(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    target: _Target,
    limit: int,
    after: UUID | None,
    meta: RequestMeta,
    *,
    verify: bool,
) -> list[tuple[UUID, Sealed]]:
    """Without `verify`, the rows still on an old key, locked; with it, every row."""
    if target.table is t.pii_vault:
        return await vault.rotation_batch(
            session, ring.active, after, limit, verify=verify, meta=meta
        )
    c = target.table.c
    query = (
        select(c[target.id_column], c[target.key_ref], c[target.nonce], c[target.ciphertext])
        .where(c.tenant_id == tenant_id, c[target.key_ref].is_not(None))
        .order_by(c[target.id_column])
        .limit(limit)
    )
    if not verify:
        query = query.where(c[target.key_ref] != ring.active).with_for_update(skip_locked=True)
    if after is not None:
        query = query.where(c[target.id_column] > after)
    return [
        (UUID(str(object_id)), Sealed(key_ref, bytes(nonce), bytes(ciphertext)))
        for object_id, key_ref, nonce, ciphertext in await session.execute(query)
    ]


async def _rotate_batch(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    target: _Target,
    batch_size: int,
    after: UUID | None,
    meta: RequestMeta,
) -> tuple[int, int, UUID | None]:
    rows = await _read_batch(
        session, ring, tenant_id, target, batch_size, after, meta, verify=False
    )
    c = target.table.c
    done = bad = 0
    for object_id, sealed in rows:
        try:
            plain = unseal(ring, target.purpose, tenant_id, object_id, sealed)
        except DecryptionError:
            bad += 1
            continue
        fresh = seal(ring, target.purpose, tenant_id, object_id, plain)
        await session.execute(
            update(target.table)
            .where(c.tenant_id == tenant_id, c[target.id_column] == object_id)
            .values(
                {
                    target.key_ref: fresh.key_ref,
                    target.nonce: fresh.nonce,
                    target.ciphertext: fresh.ciphertext,
                }
            )
        )
        done += 1
    # Keyset pagination: every row is visited once, and one that failed stays on its old key.
    return done, bad, (rows[-1][0] if rows else after)


async def _count_old(session: AsyncSession, ring: KeyRing, tenant_id: UUID, target: _Target) -> int:
    c = target.table.c
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(target.table)
                .where(
                    c.tenant_id == tenant_id,
                    c[target.key_ref].is_not(None),
                    c[target.key_ref] != ring.active,
                )
            )
        ).scalar_one()
    )


async def _verify(
    session: AsyncSession, ring: KeyRing, tenant_id: UUID, meta: RequestMeta
) -> tuple[int, int]:
    ok = bad = 0
    for target in TARGETS:
        after: UUID | None = None
        while True:
            rows = await _read_batch(
                session, ring, tenant_id, target, VERIFY_BATCH, after, meta, verify=True
            )
            for object_id, sealed in rows:
                try:
                    unseal(ring, target.purpose, tenant_id, object_id, sealed)
                    ok += 1
                except DecryptionError:
                    bad += 1
            if len(rows) < VERIFY_BATCH:
                break
            after = rows[-1][0]
    return ok, bad
