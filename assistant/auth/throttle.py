"""A per-account limit on failed logins, beside the per-address rate limit.

A guesser spread over many addresses gets past a per-address limit; counting failures per
email stops them at a fixed number of guesses per account and window. Unknown emails are
counted exactly like real ones, so the limit says nothing about which accounts exist.
The counts live in PostgreSQL (`assistant.limits`), so every worker and replica enforces
one limit; the bucket is a keyed hash of the normalised email, never the email itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.limits.counters import SharedCounters


def normalised(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """At most `limit` failed (or not yet decided) logins per email in a window of
    `window_s` seconds, starting at the window's first failure."""

    counters: SharedCounters
    limit: int
    window_s: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s < 1:
            raise ValueError("limit and window must be positive")

    def _bucket(self, email: str) -> str:
        return self.counters.bucket("login", normalised(email))

    async def attempt(self, email: str) -> int | None:
        """Count one attempt before its password is checked, so concurrent guesses cannot
        overshoot the limit. None when it may go ahead, else the seconds until it may."""
        hit = await self.counters.hit(self._bucket(email), self.limit, self.window_s)
        return None if hit.allowed else hit.reset_s

    async def clear(self, email: str) -> None:
        """Forget the email's failures, after its owner proved the password."""
        await self.counters.clear(self._bucket(email))
