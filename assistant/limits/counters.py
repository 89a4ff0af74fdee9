"""Shared counters in PostgreSQL, so that N workers (or replicas) enforce one limit, not N.

Each hit is one autocommitted statement outside the request's own transaction: a request
that fails still counted, and a counter never waits on a request's locks. Bucket names
are keyed hashes under a subkey of the token secret: the table never holds an address,
a user id or an email, and every process with the same secret derives the same bucket.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncEngine

from assistant.limits import repository
from assistant.limits.repository import Hit

__all__ = ["Hit", "SharedCounters"]


class SharedCounters:
    def __init__(self, engine: AsyncEngine, secret: str) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._subkey = hmac.new(secret.encode(), b"ro-assistant/counters", hashlib.sha256).digest()

    def bucket(self, kind: str, identity: str) -> str:
        digest = hmac.new(self._subkey, f"{kind}\x00{identity}".encode(), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()}"

    async def hit(self, bucket: str, limit: int, window_s: int) -> Hit:
        async with self._engine.connect() as conn:
            return await repository.hit(conn, bucket, limit, window_s)

    async def clear(self, bucket: str) -> None:
        async with self._engine.connect() as conn:
            await repository.clear(conn, bucket)
