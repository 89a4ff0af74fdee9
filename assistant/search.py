"""Searching as a user: their shop and role from the user record, VINs and plates in the
question turned into blind-index filters, RO numbers into RO filters."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.auth.caller import Caller, caller_by_email
from assistant.db.session import Database
from assistant.pii import blind_index
from assistant.pii.keyring import KeyRing
from retrieval import query, understanding
from retrieval.embedders import Embedder
from retrieval.search import Filters, Mode, SearchResult, search

__all__ = ["Caller", "caller_by_email", "search_as", "search_parsed"]


def filters_for(
    ring: KeyRing, caller: Caller, parsed: query.ParsedQuestion, filters: Filters
) -> Filters:
    tenant = caller.ctx.tenant_id
    vin_keys = tuple(k for v in parsed.vins if (k := blind_index.vin_index(ring, tenant, v)))
    plate_keys = tuple(k for p in parsed.plates if (k := blind_index.plate_index(ring, tenant, p)))
    return dataclasses.replace(
        filters,
        ro_numbers=filters.ro_numbers or parsed.ro_numbers,
        vin_bidx=filters.vin_bidx + vin_keys,
        plate_bidx=filters.plate_bidx + plate_keys,
    )


async def search_as(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    caller: Caller,
    question: str,
    filters: Filters | None = None,
    k: int = 10,
    mode: Mode = Mode.HYBRID,
) -> SearchResult:
    parsed = query.parse(question)
    async with db.transaction(caller.ctx) as session:
        return await search_parsed(session, ring, embedder, caller, parsed, filters, k, mode)


async def search_parsed(
    session: AsyncSession,
    ring: KeyRing,
    embedder: Embedder,
    caller: Caller,
    parsed: query.ParsedQuestion,
    filters: Filters | None = None,
    k: int = 10,
    mode: Mode = Mode.HYBRID,
) -> SearchResult:
    """The search itself, in the caller's open transaction."""
    effective = filters_for(ring, caller, parsed, filters or Filters())
    tenant = caller.ctx.tenant_id
    effective = await understanding.understand(
        session, tenant, parsed, effective, lambda p: blind_index.plate_index(ring, tenant, p)
    )
    return await search(session, embedder, tenant, parsed, effective, k, mode)
