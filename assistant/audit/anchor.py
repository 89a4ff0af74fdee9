"""Signed anchors of a shop's audit chain head.

The chain proves that no row changed since it was written, unless someone who may switch
the safeguards off (the database owner) rewrites rows, recomputes every hash and moves the
head too. An anchor closes that gap: the head's seq and hash, signed with a key the database
never sees. Kept outside the database, it lets `audit verify --anchor` tell whether the chain
up to that row is still the one that was anchored.

The MAC key is derived per shop from a data key of the ring, named by `key_ref`, so an
anchor stays checkable after a key rotation for as long as its key is in the ring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import service
from assistant.audit.service import ChainReport
from assistant.pii.keyring import KeyRing, KeyRingError

FORMAT = 1
PURPOSE = "audit-anchor"
HEX_256 = re.compile(r"^[0-9a-f]{64}$")
KEY_REF = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
FIELDS = ("format", "tenant_id", "tenant", "seq", "hash", "created_at", "key_ref", "mac")


class AnchorRefused(ValueError):
    """The anchor cannot be trusted (altered, unknown key, unreadable) or is another shop's."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """Hashes and the time are kept as the exact text that was signed."""

    format: int
    tenant_id: UUID
    tenant: str
    seq: int
    hash: str
    created_at: str
    key_ref: str
    mac: str

    def to_json(self) -> str:
        return json.dumps(self.fields(), indent=2) + "\n"

    def fields(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "tenant_id": str(self.tenant_id),
            "tenant": self.tenant,
            "seq": self.seq,
            "hash": self.hash,
            "created_at": self.created_at,
            "key_ref": self.key_ref,
            "mac": self.mac,
        }


def _canonical(
    fmt: int, tenant_id: UUID, tenant: str, seq: int, head: str, created_at: str, key_ref: str
) -> bytes:
    """A JSON array in fixed order: no field can be moved into another or left out."""
    return json.dumps(
        [fmt, str(tenant_id), tenant, seq, head, created_at, key_ref],
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


def _mac(ring: KeyRing, key_ref: str, tenant_id: UUID, message: bytes) -> str:
    key = ring.tenant_data_subkey(key_ref, tenant_id, PURPOSE)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(
    ring: KeyRing, tenant_id: UUID, tenant: str, seq: int, head: bytes, now: datetime | None = None
) -> Anchor:
    created_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    fields = (FORMAT, tenant_id, tenant, seq, head.hex(), created_at, ring.active)
    mac = _mac(ring, ring.active, tenant_id, _canonical(*fields))
    return Anchor(*fields, mac=mac)


def check_mac(ring: KeyRing, anchor: Anchor) -> None:
    """Raises unless this ring signed exactly these fields for the shop the anchor names."""
    try:
        expected = _mac(
            ring,
            anchor.key_ref,
            anchor.tenant_id,
            _canonical(
                anchor.format,
                anchor.tenant_id,
                anchor.tenant,
                anchor.seq,
                anchor.hash,
                anchor.created_at,
                anchor.key_ref,
            ),
        )
    except KeyRingError:
        raise AnchorRefused(
            f"the anchor was signed with key {anchor.key_ref!r}, which is not in the key ring"
        ) from None
    if not hmac.compare_digest(expected, anchor.mac):
        raise AnchorRefused("the anchor's MAC does not match: the anchor was altered")


def parse(raw: object) -> Anchor:
    """From the decoded JSON of an anchor file or request body; shape errors are refusals."""
    if not isinstance(raw, dict) or set(raw) != set(FIELDS):
        raise AnchorRefused(f"not an audit anchor: expected exactly {', '.join(FIELDS)}")
    if type(raw["format"]) is not int or raw["format"] != FORMAT:
        raise AnchorRefused(f"not an audit anchor of format {FORMAT}, the one this version reads")
    if type(raw["seq"]) is not int or raw["seq"] < 0:
        raise AnchorRefused("not an audit anchor: seq is not a row number")
    texts: dict[str, str] = {}
    for name in ("tenant_id", "tenant", "hash", "created_at", "key_ref", "mac"):
        if not isinstance(raw[name], str):
            raise AnchorRefused(f"not an audit anchor: {name} is not text")
        texts[name] = raw[name]
    for name in ("hash", "mac"):
        if not HEX_256.match(texts[name]):
            raise AnchorRefused(f"not an audit anchor: {name} is not 64 lowercase hex digits")
    if not KEY_REF.match(texts["key_ref"]):
        raise AnchorRefused("not an audit anchor: key_ref is not a key reference")
    try:
        tenant_id = UUID(texts["tenant_id"])
    except ValueError:
        raise AnchorRefused("not an audit anchor: tenant_id is not a UUID") from None
    return Anchor(
        FORMAT,
        tenant_id,
        texts["tenant"],
        raw["seq"],
        texts["hash"],
        texts["created_at"],
        texts["key_ref"],
        texts["mac"],
    )


def load(text: str) -> Anchor:
    try:
        raw = json.loads(text)
    except ValueError:
        raise AnchorRefused("not an audit anchor: the file is not JSON") from None
    return parse(raw)


async def take(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    tenant: str,
    against: Anchor | None = None,
) -> tuple[ChainReport, Anchor | None]:
    """Verify the chain (as ADMIN), against an earlier anchor if given, and sign its head
    only if everything holds: an anchor of a broken chain would vouch for the damage."""
    if against is None:
        report = await service.verify(session)
    else:
        report = await verify_against(session, ring, tenant_id, against)
    if not report.ok:
        return report, None
    return report, sign(ring, tenant_id, tenant, report.head_seq, report.head_hash)


async def verify_against(
    session: AsyncSession, ring: KeyRing, tenant_id: UUID, anchor: Anchor
) -> ChainReport:
    """The chain as it is now must be intact and still hold the anchored row, unchanged.

    Raises `AnchorRefused` when the anchor itself cannot be trusted or is another shop's.
    A rewrite whose hashes were all recomputed leaves the chain consistent; only the
    anchored hash, which nobody without the key ring can re-sign, shows it.
    """
    check_mac(ring, anchor)
    if anchor.tenant_id != tenant_id:
        raise AnchorRefused("the anchor is another shop's")
    report = await service.verify(session)
    if not report.ok:
        return report
    if report.head_seq < anchor.seq:
        return ChainReport(
            report.rows,
            report.head_seq + 1,
            f"the chain ends at row {report.head_seq} but the anchor is at row {anchor.seq}:"
            " rows were removed",
        )
    stored = await service.row_hash(session, anchor.seq)
    if stored is None or stored.hex() != anchor.hash:
        return ChainReport(
            report.rows,
            None,
            f"row {anchor.seq} does not match the anchor: the log up to row {anchor.seq}"
            " was rewritten after the anchor was taken",
        )
    return report
