"""Original source files, kept only sealed: they hold the customer PII the RO tables do not."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t
from assistant.pii.keyring import KeyRing
from assistant.pii.sealing import Sealed, seal, unseal

PURPOSE = "document"


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A file sealed once per ingest run; stored by the first RO transaction that needs it."""

    doc_id: UUID
    tenant_id: UUID
    filename: str
    mime_type: str
    sha256: bytes
    size: int
    sealed: Sealed = field(repr=False)

    @classmethod
    def seal_file(
        cls, ring: KeyRing, tenant_id: UUID, filename: str, mime_type: str, content: bytes
    ) -> SourceDocument:
        doc_id = uuid.uuid4()
        return cls(
            doc_id,
            tenant_id,
            filename,
            mime_type,
            hashlib.sha256(content).digest(),
            len(content),
            seal(ring, PURPOSE, tenant_id, doc_id, content),
        )


async def ensure_stored(session: AsyncSession, doc: SourceDocument) -> UUID:
    """The id of this file's row, inserting it unless an identical file is already stored.

    Looked up first, so the sealed content (megabytes for a big export) crosses the wire
    once per file, not once per RO of it.
    """
    find = select(t.documents.c.doc_id).where(
        t.documents.c.tenant_id == doc.tenant_id, t.documents.c.sha256 == doc.sha256
    )
    found = (await session.execute(find)).scalar_one_or_none()
    if found is None:
        await session.execute(
            insert(t.documents)
            .values(
                doc_id=doc.doc_id,
                tenant_id=doc.tenant_id,
                filename=doc.filename,
                mime_type=doc.mime_type,
                sha256=doc.sha256,
                size_bytes=doc.size,
                content_key_ref=doc.sealed.key_ref,
                content_nonce=doc.sealed.nonce,
                content_ciphertext=doc.sealed.ciphertext,
            )
            # Two ROs of one file may race to store it; any duplicate means "already there".
            .on_conflict_do_nothing()
        )
        found = (await session.execute(find)).scalar_one()
    return UUID(str(found))


async def read_original(
    session: AsyncSession, ring: KeyRing, tenant_id: UUID, doc_id: UUID
) -> bytes | None:
    row = (
        await session.execute(
            select(
                t.documents.c.content_key_ref,
                t.documents.c.content_nonce,
                t.documents.c.content_ciphertext,
            ).where(t.documents.c.tenant_id == tenant_id, t.documents.c.doc_id == doc_id)
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return unseal(ring, PURPOSE, tenant_id, doc_id, Sealed(row[0], bytes(row[1]), bytes(row[2])))
