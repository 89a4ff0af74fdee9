"""The counters' SQL: two SECURITY DEFINER functions (migration 0019), each one statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_HIT = text("SELECT allowed, remaining, reset_s FROM app.rate_hit(:bucket, :lim, :window)")
_CLEAR = text("SELECT app.rate_clear(:bucket)")


@dataclass(frozen=True, slots=True)
class Hit:
    allowed: bool
    remaining: int
    reset_s: int


async def hit(conn: AsyncConnection, bucket: str, limit: int, window_s: int) -> Hit:
    row = (await conn.execute(_HIT, {"bucket": bucket, "lim": limit, "window": window_s})).one()
    return Hit(bool(row.allowed), int(row.remaining), int(row.reset_s))


async def clear(conn: AsyncConnection, bucket: str) -> None:
    await conn.execute(_CLEAR, {"bucket": bucket})
