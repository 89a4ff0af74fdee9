"""The command line as a user meets it: one-line errors, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings
from tests.conftest import DatabaseUrls

CLI = [sys.executable, "-m", "assistant.cli"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_DATABASE_URL")
    }
    full_env.update(env)
    return subprocess.run(
        [*CLI, *args], env=full_env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("command", [["db", "status"], ["db", "migrate"], ["db", "start"]])
def test_unreachable_database_url_gives_one_line_naming_host_and_port(
    command: list[str],
) -> None:
    result = run(
        command,
        {
            "DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/nothing",
            "APP_DATABASE_URL": "postgresql://ro_app:pw@127.0.0.1:1/nothing",
        },
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1:1" in lines[0]
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr


def test_unresolvable_host_is_named_too() -> None:
    result = run(["db", "status"], {"DATABASE_URL": "postgresql://x@no-such-host.invalid:6543/db"})
    assert result.returncode == 1
    assert "no-such-host.invalid:6543" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_database_url_without_app_url_is_explained() -> None:
    result = run(["db", "url", "--role", "app"], {"DATABASE_URL": "postgresql://x@127.0.0.1:1/db"})
    assert result.returncode == 1
    assert "APP_DATABASE_URL" in result.stderr


def test_stop_with_database_url_never_touches_a_server() -> None:
    result = run(["db", "stop"], {"DATABASE_URL": "postgresql://x@127.0.0.1:1/db"})
    assert result.returncode == 0
    assert "no embedded server" in result.stdout


def test_migrate_and_status_through_the_cli(
    make_database: object, migrated: DatabaseUrls, settings: Settings
) -> None:
    env = {"DATABASE_URL": migrated.owner_url, "APP_DATABASE_URL": migrated.app_url}
    result = run(["db", "migrate"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database is up to date"
    status = run(["db", "status"], env)
    count = len(list(settings.migrations_dir.glob("*.sql")))
    assert f"{count} migrations applied, 0 pending" in status.stdout


def test_a_broken_migration_is_reported_with_its_file(
    migrated: DatabaseUrls, tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    for f in settings.migrations_dir.glob("*.sql"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "9999_broken.sql").write_text("SELEKT 1;")
    env = {
        "DATABASE_URL": migrated.owner_url,
        "APP_DATABASE_URL": migrated.app_url,
        "RO_ASSISTANT_MIGRATIONS_DIR": str(folder),
    }
    result = run(["db", "migrate"], env)
    assert result.returncode == 1
    assert "applying 9999_broken.sql" in result.stdout
    assert "9999_broken.sql" in result.stderr
    assert 'syntax error at or near "SELEKT"' in result.stderr
    assert "Traceback" not in result.stderr
