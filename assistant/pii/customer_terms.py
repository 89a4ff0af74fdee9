"""A keyed per-shop index of its customers' names, streets, phones and emails.

Users type customer details into questions and titles ("what did we do for Dana Whitfield
on 418 Oak Ridge Dr?"). To take them out, the server must recognise them, but a second
clear-text copy of the vault would defeat the vault. So ingest stores only HMACs of
normalised terms under a per-shop key; a question's candidate terms are hashed the same
way and looked up. Without the key ring a term reveals nothing, not even across shops.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.pii import vault
from assistant.pii.keyring import KeyRing

_WORD = re.compile(r"[a-z0-9]+")
_STREET_WORDS = (
    "st street ave av avenue rd road dr drive blvd boulevard ln lane ct court pl place hwy "
    "highway pkwy parkway cir circle way ter terrace trl trail loop"
)
STREET_TYPES = frozenset(_STREET_WORDS.split())
# Surnames that are everyday words in a shop's questions never count on their own.
_COMMON_WORDS = (
    "white black brown green gray grey young long short will grant chase may june april rose "
    "wood woods king price hall hill lane field fields park parks rich love bell bush cross "
    "ford lincoln dodge jeep mercedes mini miles power powers page rice stone hunt banks cook "
    "hope joy mark bill frank guy jack sterling summer winter storm brake brakes oil tire "
    "tires check light engine front rear left right door seat wheel gear case shop car truck "
    "van part parts line service major minor best good fast gold silver chevy golf edge "
    "escape focus fit journey compass pilot ranger frontier transit express legacy accord "
    "leaf atlas soul civic"
)
COMMON_WORDS = frozenset(_COMMON_WORDS.split())


class TermKind(StrEnum):
    NAME = "name"  # two name parts together, either order
    SURNAME = "surname"  # one distinctive name part, only when typed capitalised
    STREET = "street"  # house number and street name
    PHONE = "phone"
    EMAIL = "email"


FIELD_OF = {
    TermKind.NAME: "customer_name",
    TermKind.SURNAME: "customer_name",
    TermKind.STREET: "address",
    TermKind.PHONE: "phones",
    TermKind.EMAIL: "email",
}
# The terms that identify one customer across ROs (a surname alone is a family, not one).
SAME_CUSTOMER_KINDS = {
    "customer_name": (TermKind.NAME,),
    "address": (TermKind.STREET,),
    "phones": (TermKind.PHONE,),
    "email": (TermKind.EMAIL,),
}


def words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


def phone_digits(text: str) -> str | None:
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def street_key(tokens: Sequence[str]) -> str | None:
    """House number and name, up to the street type ("418 oak ridge" for "418 N Oak Ridge
    Dr Apt 4"): one-letter words (directions, initials) never count, as in questions."""
    parts = [w for w in tokens if len(w) > 1 or w.isdigit()]
    for i, part in enumerate(parts[2:], start=2):
        if part in STREET_TYPES:
            parts = parts[:i]
            break
    if len(parts) < 2 or not parts[0].isdigit():
        return None
    return " ".join(parts)


def name_terms(name: str) -> Iterator[tuple[TermKind, str]]:
    parts = [w for w in words(name) if len(w) > 1 and not w.isdigit()]
    pairs = set(itertools.pairwise(parts))
    if len(parts) > 2:
        pairs.add((parts[0], parts[-1]))  # "Jordan Whitfield" for "Jordan Lee Whitfield"
    for first, second in sorted(pairs):
        yield TermKind.NAME, f"{first} {second}"
        yield TermKind.NAME, f"{second} {first}"
    for part in parts:
        if len(part) >= 4 and part not in COMMON_WORDS:
            yield TermKind.SURNAME, part


def payload_terms(payload: Mapping[str, Any]) -> set[tuple[TermKind, str]]:
    """Every term a vault payload is recognised by."""
    out: set[tuple[TermKind, str]] = set()
    name = payload.get("customer_name")
    if isinstance(name, str):
        out.update(name_terms(name))
    address = payload.get("address")
    if isinstance(address, Mapping) and isinstance(address.get("street"), str):
        key = street_key(words(address["street"]))
        if key:
            out.add((TermKind.STREET, key))
    for phone in payload.get("phones") or []:
        digits = phone_digits(phone) if isinstance(phone, str) else None
        if digits:
            out.add((TermKind.PHONE, digits))
    email = payload.get("email")
    if isinstance(email, str) and "@" in email:
        out.add((TermKind.EMAIL, email.strip().lower()))
    return out


def terms_key(ring: KeyRing, tenant_id: UUID) -> bytes:
    return ring.tenant_key(tenant_id, "customer-terms")


def keyed(key: bytes, kind: TermKind, value: str) -> bytes:
    return hmac.new(key, f"{kind.value}:{value}".encode(), hashlib.sha256).digest()


def term_hash(ring: KeyRing, tenant_id: UUID, kind: TermKind, value: str) -> bytes:
    return keyed(terms_key(ring, tenant_id), kind, value)


async def replace(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    ro_id: UUID,
    payload: Mapping[str, Any],
) -> None:
    """The RO's terms, rewritten with its vault row (same transaction, ADMIN)."""
    ct = t.customer_terms
    await session.execute(delete(ct).where(ct.c.tenant_id == tenant_id, ct.c.ro_id == ro_id))
    key = terms_key(ring, tenant_id)
    rows = [
        {
            "tenant_id": tenant_id,
            "ro_id": ro_id,
            "kind": kind.value,
            "term": keyed(key, kind, v),
        }
        for kind, v in sorted(payload_terms(payload))
    ]
    if rows:
        await session.execute(insert(ct).values(rows).on_conflict_do_nothing())


@dataclass(frozen=True, slots=True)
class Match:
    kind: TermKind
    ro_number: str  # the customer's latest RO


MAX_CANDIDATES = 5000
_MATCH = text("SELECT term, kind, ro_number FROM app.customer_terms_match(:terms)")


async def lookup(session: AsyncSession, hashes: Iterable[bytes]) -> dict[bytes, Match]:
    """Through app.customer_terms_match, in the caller's shop: the application role cannot
    read the hashes themselves."""
    wanted = list(dict.fromkeys(hashes))[:MAX_CANDIDATES]
    if not wanted:
        return {}
    rows = await session.execute(_MATCH, {"terms": wanted})
    return {bytes(term): Match(TermKind(kind), str(ro)) for term, kind, ro in rows}


INDEXED_FIELDS = ("customer_name", "address", "phones", "email")
REBUILD_PURPOSE = "rebuild the customer term index"


async def rebuild(
    db: Database,
    ring: KeyRing,
    tenant_id: UUID,
    meta: RequestMeta,
    *,
    batch_size: int = 200,
) -> int:
    """Every RO's terms from its vault row, for shops ingested before the index existed.

    Reads go through the audited vault function (one audit row per RO, as ADMIN); each
    batch is its own transaction, so an interrupted run loses nothing and can run again.
    """
    ctx = DbContext(tenant_id=tenant_id, role=Role.ADMIN)
    r = t.repair_orders
    after: UUID | None = None
    done = 0
    while True:
        async with db.transaction(ctx) as session:
            query = select(r.c.ro_id).where(r.c.tenant_id == tenant_id).order_by(r.c.ro_id)
            if after is not None:
                query = query.where(r.c.ro_id > after)
            ro_ids = [UUID(str(row[0])) for row in await session.execute(query.limit(batch_size))]
            for ro_id in ro_ids:
                read = await vault.fetch_audited(
                    session, ro_id, INDEXED_FIELDS, REBUILD_PURPOSE, meta
                )
                payload = (
                    vault.open_payload(ring, tenant_id, ro_id, read.sealed) if read.sealed else {}
                )
                await replace(session, ring, tenant_id, ro_id, payload)
        done += len(ro_ids)
        if len(ro_ids) < batch_size:
            return done
        after = ro_ids[-1]
