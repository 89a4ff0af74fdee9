"""A per-account limit on failed logins, beside the per-address rate limit.

A guesser spread over many addresses gets past a per-address limit; counting failures per
email stops them at a fixed number of guesses per account and window. Unknown emails are
counted exactly like real ones, so the limit says nothing about which accounts exist.
Accounts are keyed by a keyed hash of the normalised email: the store never holds the
email itself.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol


def account_key(secret: str, email: str) -> str:
    """The throttle's key for an email: HMAC-SHA256 under a subkey of the token secret, so
    every worker with the same secret derives the same key and a dump of the store does not
    give the emails back by hashing a list of likely ones."""
    subkey = hmac.new(secret.encode(), b"ro-assistant/login-throttle", hashlib.sha256).digest()
    return hmac.new(subkey, email.strip().lower().encode(), hashlib.sha256).hexdigest()


class LoginThrottle(Protocol):
    """Where failed logins are counted. `check` and `fail` run with no await between them,
    so a store shared by several processes must make the pair atomic."""

    def check(self, key: str) -> int | None:
        """None when the key may try now, else the whole seconds until it may."""

    def fail(self, key: str) -> None:
        """Count one failed (or not yet decided) attempt."""

    def clear(self, key: str) -> None:
        """Forget the key's failures, after its owner proved the password."""


class MemoryLoginThrottle:
    """At most `limit` failures per key in any `window_s` seconds, in this process's memory.

    Each uvicorn worker keeps its own counts, so with N workers a guesser gets up to N times
    the limit, and a restart forgets them. A later change moves the counts to a store every
    worker shares; this class is the interface it will keep.

    Memory is bounded: keys whose failures have all expired are dropped as new failures
    arrive, and past `max_keys` the key that failed least recently is forgotten.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("limit, window and max_keys must be positive")
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        # Ordered by each key's latest failure, oldest first.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, key: str) -> int | None:
        times = self._failures.get(key)
        if times is None:
            return None
        now = self._clock()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window_s - now))

    def fail(self, key: str) -> None:
        now = self._clock()
        self._forget_expired(now)
        times = self._failures.pop(key, None)
        if times is None:
            times = deque(maxlen=self.limit)
        times.append(now)
        self._failures[key] = times
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)

    def _forget_expired(self, now: float) -> None:
        while self._failures:
            oldest_key, times = next(iter(self._failures.items()))
            if times and times[-1] > now - self.window_s:
                return
            del self._failures[oldest_key]
