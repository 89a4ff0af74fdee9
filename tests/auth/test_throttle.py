"""The per-account login throttle and the shared counters under it, on the real database
as the application role."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from assistant.auth.throttle import LoginThrottle
from assistant.db.session import Database
from assistant.limits.counters import SharedCounters

pytestmark = pytest.mark.anyio

SECRET = "a-token-secret-of-at-least-32-characters"


def _counters(app_db: Database, secret: str = SECRET) -> SharedCounters:
    return SharedCounters(app_db.engine, secret)


def _email() -> str:
    return f"tech-{uuid.uuid4().hex[:8]}@desert-auto.example"


async def test_the_limit_holds_and_says_how_long_to_wait(app_db: Database) -> None:
    throttle = LoginThrottle(_counters(app_db), limit=3, window_s=60)
    email = _email()
    assert [await throttle.attempt(email) for _ in range(3)] == [None, None, None]
    wait = await throttle.attempt(email)
    assert wait is not None
    assert 55 <= wait <= 60
    # Retrying does not move the window's end.
    again = await throttle.attempt(email)
    assert again is not None
    assert again <= wait


async def test_spellings_of_one_email_share_a_count_and_clear_forgets_it(
    app_db: Database,
) -> None:
    throttle = LoginThrottle(_counters(app_db), limit=2, window_s=60)
    email = _email()
    other = _email()
    assert await throttle.attempt(email) is None
    assert await throttle.attempt("  " + email.upper()) is None
    assert await throttle.attempt(email) is not None
    assert await throttle.attempt(other) is None  # counted apart
    await throttle.clear(email.title())
    assert await throttle.attempt(email) is None


async def test_a_window_ends_and_counting_starts_again(app_db: Database) -> None:
    throttle = LoginThrottle(_counters(app_db), limit=1, window_s=1)
    email = _email()
    assert await throttle.attempt(email) is None
    assert await throttle.attempt(email) == 1
    await asyncio.sleep(1.1)
    assert await throttle.attempt(email) is None


async def test_concurrent_attempts_never_overshoot_the_limit(app_db: Database) -> None:
    throttle = LoginThrottle(_counters(app_db), limit=5, window_s=60)
    email = _email()
    results = await asyncio.gather(*(throttle.attempt(email) for _ in range(20)))
    assert sum(r is None for r in results) == 5


async def test_buckets_are_keyed_hashes_the_app_role_cannot_read(app_db: Database) -> None:
    counters = _counters(app_db)
    email = "tech@desert-auto.example"
    bucket = counters.bucket("login", email)
    assert bucket == counters.bucket("login", email)
    assert bucket != _counters(app_db, SECRET + "x").bucket("login", email)
    assert bucket != counters.bucket("rate60", email)
    assert "desert" not in bucket
    async with app_db.engine.connect() as conn:
        with pytest.raises(ProgrammingError, match="permission denied"):
            await conn.execute(text("SELECT bucket FROM app.rate_counters"))


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (3, 0)])
async def test_a_limit_that_would_lock_everyone_out_is_refused(
    app_db: Database, limit: int, window: int
) -> None:
    with pytest.raises(ValueError, match="positive"):
        LoginThrottle(_counters(app_db), limit, window)
