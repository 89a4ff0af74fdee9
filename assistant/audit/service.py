"""Writing, verifying and exporting the audit log.

`record` is the only writer. It runs inside the caller's transaction, so an audited read and
its audit row commit or vanish together; the database computes the hash chain.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.db import tables as t
from assistant.db.session import DbContext

MAX_USER_AGENT = 512


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Where an action came from: the HTTP request, or the command line."""

    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None

    def audit_columns(self) -> dict[str, str | None]:
        """The audit row's request_id, ip and user_agent, the last cut to what it holds."""
        agent = self.user_agent[:MAX_USER_AGENT] if self.user_agent else None
        return {"request_id": self.request_id, "ip": self.ip, "user_agent": agent}


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str
    outcome: Outcome
    object_type: str | None = None
    object_id: str | None = None
    pii_fields: Sequence[str] = ()
    purpose: str | None = None


async def record(
    session: AsyncSession, actor: DbContext, event: AuditEvent, meta: RequestMeta
) -> None:
    """Append one row. The id is made here so nothing needs RETURNING, which would require
    reading the row back: a TECH may write a refusal it is not allowed to read."""
    await session.execute(
        insert(t.audit_log).values(
            audit_id=uuid.uuid4(),
            tenant_id=actor.tenant_id,
            actor_user_id=actor.user_id,
            actor_role=actor.role.value,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            pii_fields=list(event.pii_fields),
            purpose=event.purpose,
            outcome=event.outcome.value,
            **meta.audit_columns(),
        )
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows: int
    first_broken_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0
    head_hash: bytes = bytes(32)

    @property
    def ok(self) -> bool:
        return self.problem is None


# One statement, so the rows and the head come from one snapshot: read one after the other,
# a row committed in between would look like a removed one.
_CHAIN = text(
    "SELECT false AS is_head, seq, prev_hash, hash, app.audit_row_hash(a) = hash"
    " FROM app.audit_log a"
    " UNION ALL SELECT true, seq, NULL, hash, NULL FROM app.audit_chain_head()"
    " ORDER BY is_head, seq"
)


async def verify(session: AsyncSession) -> ChainReport:
    """Walk the current tenant's chain (as ADMIN) and name the first row that does not fit."""
    everything = (await session.execute(_CHAIN)).all()
    rows = [r[1:] for r in everything if not r.is_head]
    head = next(((int(r.seq), bytes(r.hash)) for r in everything if r.is_head), (0, bytes(32)))
    previous_hash = bytes(32)
    for expected_seq, (seq, prev_hash, stored_hash, intact) in enumerate(rows, start=1):
        if seq != expected_seq:
            return ChainReport(
                len(rows), expected_seq, f"row {expected_seq} is missing (next present is {seq})"
            )
        if bytes(prev_hash) != previous_hash:
            return ChainReport(len(rows), seq, f"row {seq} does not link to row {seq - 1}")
        if not intact:
            return ChainReport(len(rows), seq, f"row {seq} was changed after it was written")
        previous_hash = bytes(stored_hash)
    head_seq, head_hash = head
    if head_seq != len(rows) or head_hash != previous_hash:
        return ChainReport(
            len(rows),
            len(rows) + 1,
            f"the chain ends at row {len(rows)} but {head_seq} rows were written",
        )
    return ChainReport(len(rows), head_seq=head_seq, head_hash=head_hash)


async def row_hash(session: AsyncSession, seq: int) -> bytes | None:
    """The stored hash of one row (as ADMIN); row 0 is the chain's all-zero start."""
    if seq == 0:
        return bytes(32)
    found = await session.scalar(select(t.audit_log.c.hash).where(t.audit_log.c.seq == seq))
    return bytes(found) if found is not None else None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_user_id: UUID | None = None
    action: str | None = None
    object_id: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


EXPORT_COLUMNS = (
    "seq",
    "created_at",
    "actor_user_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "pii_fields",
    "purpose",
    "outcome",
    "request_id",
    "ip",
    "user_agent",
    "prev_hash",
    "hash",
)


async def rows(
    session: AsyncSession, flt: AuditFilter, *, limit: int | None = None, after_seq: int = 0
) -> list[dict[str, Any]]:
    a = t.audit_log
    query = _where(select(*(a.c[name] for name in EXPORT_COLUMNS)).where(a.c.seq > after_seq), flt)
    query = query.order_by(a.c.seq)
    if limit is not None:
        query = query.limit(limit)
    return [_plain(dict(row._mapping)) for row in await session.execute(query)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, bytes | memoryview):
            out[key] = bytes(value).hex()
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, UUID) or (value is not None and key == "ip"):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def to_jsonl(items: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, sort_keys=True) + "\n" for item in items)


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a purpose typed as "=HYPERLINK(...)")
    is quoted, as OWASP advises for CSV exports."""
    if isinstance(value, list):
        value = ";".join(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(items: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({k: _cell(v) for k, v in item.items()})
    return buffer.getvalue()


def _where(query: Select[Any], flt: AuditFilter) -> Select[Any]:
    """The filter's conditions: one place for the export (`rows`) and the admin page's
    newest-first reading and count, so the page and the export cannot disagree."""
    a = t.audit_log
    if flt.actor_user_id:
        query = query.where(a.c.actor_user_id == flt.actor_user_id)
    if flt.action:
        query = query.where(a.c.action == flt.action)
    if flt.object_id:
        query = query.where(a.c.object_id == flt.object_id)
    if flt.outcome:
        query = query.where(a.c.outcome == flt.outcome.value)
    if flt.since:
        query = query.where(a.c.created_at >= flt.since)
    if flt.until:
        query = query.where(a.c.created_at < flt.until)
    return query


async def newest_rows(
    session: AsyncSession,
    flt: AuditFilter,
    *,
    limit: int,
    before_seq: int | None = None,
    after_seq: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first, as a person reads the log (exports keep `rows`' oldest-first order):
    `before_seq` pages back to older rows, `after_seq` forward to newer ones. The rows are
    the export's, column for column."""
    a = t.audit_log
    query = _where(select(*(a.c[name] for name in EXPORT_COLUMNS)), flt)
    if after_seq is not None:
        query = query.where(a.c.seq > after_seq).order_by(a.c.seq).limit(limit)
        return [_plain(dict(row._mapping)) for row in await session.execute(query)][::-1]
    if before_seq is not None:
        query = query.where(a.c.seq < before_seq)
    query = query.order_by(a.c.seq.desc()).limit(limit)
    return [_plain(dict(row._mapping)) for row in await session.execute(query)]


async def count_rows(session: AsyncSession, flt: AuditFilter) -> int:
    found = await session.scalar(_where(select(func.count()).select_from(t.audit_log), flt))
    return int(found or 0)
