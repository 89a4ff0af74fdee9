"""The login settings: read by name, and a zero that would lock every login out refused."""

from __future__ import annotations

import pytest

from assistant.settings import Settings, SettingsError

NAMES = (
    "RO_ASSISTANT_LOGIN_FAILURES_PER_ACCOUNT",
    "RO_ASSISTANT_LOGIN_LOCKOUT_SECONDS",
    "RO_ASSISTANT_ARGON2_CONCURRENCY",
)


def test_defaults_and_values_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.login_failures_per_account, default.login_lockout_s) == (10, 900)
    assert default.argon2_concurrency == 2
    given = Settings.from_env(dict(zip(NAMES, ("5", "60", "4"), strict=True)))
    assert (given.login_failures_per_account, given.login_lockout_s) == (5, 60)
    assert given.argon2_concurrency == 4


@pytest.mark.parametrize("name", NAMES)
def test_zero_is_refused_by_name(name: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be at least 1"):
        Settings.from_env({name: "0"})
