"""The per-account login throttle on its own, with a clock the test moves."""

from __future__ import annotations

import pytest

from assistant.auth.throttle import MemoryLoginThrottle, account_key

SECRET = "a-token-secret-of-at-least-32-characters"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_in_any_window_and_says_how_long_to_wait() -> None:
    clock = Clock()
    throttle = MemoryLoginThrottle(3, 60, clock=clock)
    for _ in range(3):
        assert throttle.check("k") is None
        throttle.fail("k")
        clock.now += 10
    # Failures at 1000, 1010, 1020; now 1030: the first ages out at 1060.
    assert throttle.check("k") == 30
    clock.now = 1059.5
    assert throttle.check("k") == 1
    clock.now = 1060.0
    assert throttle.check("k") is None
    throttle.fail("k")
    assert throttle.check("k") == 10  # the failure at 1010 ages out at 1070


def test_keys_are_counted_apart_and_clear_forgets_one() -> None:
    throttle = MemoryLoginThrottle(2, 60, clock=Clock())
    for key in ("a", "a", "b", "b"):
        throttle.fail(key)
    throttle.clear("a")
    assert throttle.check("a") is None
    assert throttle.check("b") == 60


def test_memory_stays_bounded() -> None:
    clock = Clock()
    throttle = MemoryLoginThrottle(2, 60, max_keys=100, clock=clock)
    throttle.fail("target")
    throttle.fail("target")
    for i in range(99):
        throttle.fail(f"spray-{i}")
    assert throttle.check("target") == 60
    assert len(throttle) == 100
    throttle.fail("one-more")
    assert len(throttle) == 100
    assert throttle.check("target") is None  # the least recently failed key went first
    clock.now += 61
    throttle.fail("late")
    assert len(throttle) == 1  # expired keys are dropped as new failures arrive


def test_account_keys_normalise_the_email_and_hide_it() -> None:
    key = account_key(SECRET, "Tech@Desert-Auto.example ")
    assert key == account_key(SECRET, "tech@desert-auto.example")
    assert key != account_key(SECRET, "tech2@desert-auto.example")
    assert key != account_key(SECRET + "x", "tech@desert-auto.example")
    assert "desert" not in key
    assert len(key) == 64


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (3, 0)])
def test_a_limit_that_would_lock_everyone_out_is_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        MemoryLoginThrottle(limit, window)
