"""The generated token secret file: made 0600 and long, and a weak one stops the service
before it serves anything, with one line naming the file."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.api.app import create_app
from assistant.auth import tokens
from assistant.settings import Settings


@pytest.fixture
def file_settings(settings: Settings, tmp_path: Path) -> Settings:
    """No RO_ASSISTANT_TOKEN_SECRET: the secret comes from the data folder's file."""
    return dataclasses.replace(settings, data_dir=tmp_path / "data", token_secret=None)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_the_generated_file_is_0600_long_and_kept(file_settings: Settings) -> None:
    secret = tokens.load_secret(file_settings)
    path = file_settings.token_secret_path
    assert _mode(path) == 0o600  # even with a umask that would leave it world-readable
    assert len(secret.encode()) >= 32
    assert path.read_text() == secret
    assert tokens.load_secret(file_settings) == secret
    assert not path.with_name(path.name + ".tmp").exists()


def _weak_file(settings: Settings, content: str, mode: int) -> Path:
    path = settings.token_secret_path
    path.parent.mkdir(parents=True)
    path.write_text(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("content", "mode", "problem"),
    [
        ("s" * 64, 0o644, "must be mode 600 (is 644)"),
        ("s" * 64, 0o640, "must be mode 600 (is 640)"),
        ("0123456789", 0o600, "must hold at least 32 bytes (has 10)"),
    ],
    ids=["world-readable", "group-readable", "10-bytes"],
)
def test_a_weak_file_stops_create_app(
    file_settings: Settings, content: str, mode: int, problem: str
) -> None:
    path = _weak_file(file_settings, content, mode)
    with pytest.raises(tokens.TokenSecretError) as refused:
        create_app(file_settings)
    assert str(refused.value) == f"token secret file {path} {problem}"
    assert path.read_text() == content  # left for the operator to fix, not replaced


def test_a_short_environment_secret_stops_create_app(file_settings: Settings) -> None:
    with pytest.raises(tokens.TokenSecretError, match="32"):
        create_app(dataclasses.replace(file_settings, token_secret="too-short"))


@pytest.mark.parametrize(
    ("content", "mode", "problem"),
    [
        ("s" * 64, 0o644, "must be mode 600 (is 644)"),
        ("0123456789", 0o600, "must hold at least 32 bytes (has 10)"),
    ],
    ids=["world-readable", "10-bytes"],
)
def test_serve_refuses_a_weak_file_in_one_line(
    file_settings: Settings, content: str, mode: int, problem: str
) -> None:
    path = _weak_file(file_settings, content, mode)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RO_ASSISTANT_")} | {
        "RO_ASSISTANT_DATA_DIR": str(file_settings.data_dir),
        # Never reached: the secret is checked before anything connects.
        "DATABASE_URL": "postgresql://ro_owner:x@127.0.0.1:1/nothing",
        "APP_DATABASE_URL": "postgresql://ro_app:x@127.0.0.1:1/nothing",
    }
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"Error: token secret file {path} {problem}"]
