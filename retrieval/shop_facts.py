"""What a search needs to know about a shop that changes only when its ROs do (its vehicle
and technician catalogue, its chunk count), cached per process for a few minutes.
Ingestion calls `clear(tenant)` after it writes, so a shop's new ROs count at once.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")
_ALL: list[Fact[object]] = []


class Fact(Generic[T]):
    """One fact per shop, kept `ttl_s` seconds."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._values: dict[UUID, tuple[float, T]] = {}
        _ALL.append(self)  # type: ignore[arg-type]

    def get(self, tenant_id: UUID) -> T | None:
        kept = self._values.get(tenant_id)
        if kept is None or time.monotonic() - kept[0] >= self.ttl_s:
            return None
        return kept[1]

    def put(self, tenant_id: UUID, value: T) -> T:
        self._values[tenant_id] = (time.monotonic(), value)
        return value

    def forget(self, tenant_id: UUID | None) -> None:
        if tenant_id is None:
            self._values.clear()
        else:
            self._values.pop(tenant_id, None)


def clear(tenant_id: UUID | None = None) -> None:
    """Forget every cached fact of one shop (or of every shop)."""
    for fact in _ALL:
        fact.forget(tenant_id)
