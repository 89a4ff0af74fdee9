"""compose.yaml must stay valid, and keep the database owner from being a superuser, even
though no Docker engine runs here: docker-compose itself validates, interpolates and
normalises the file, and the checks read its output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.settings import PROJECT_ROOT

INIT_DIR = PROJECT_ROOT / "deploy" / "postgres-init"
INIT_SCRIPT = INIT_DIR / "10-ro-owner.sh"
INIT_TARGET = "/docker-entrypoint-initdb.d"
PASSWORDS = {
    "POSTGRES_SUPERUSER_PASSWORD": "superuser-pw-1",
    "RO_OWNER_DB_PASSWORD": "owner-pw-2",
    "RO_APP_DB_PASSWORD": "app-pw-3",
}


def _run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Debian's docker-compose, installed when it is missing, so this check never skips."""
    found = shutil.which("docker-compose")
    if found is None:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        # Without the recommended docker.io: only the file checker is needed, not an engine.
        install = ["apt-get", "install", "-y", "--no-install-recommends", "docker-compose"]
        result = _run(install, env)
        if result.returncode != 0:
            _run(["apt-get", "update"], env)
            result = _run(install, env)
        assert result.returncode == 0, result.stdout[-1000:] + result.stderr[-2000:]
        found = shutil.which("docker-compose")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def config(docker_compose: str) -> dict[str, Any]:
    """`docker-compose config` with each password variable set to its own value."""
    env = {k: v for k, v in os.environ.items() if k not in PASSWORDS} | PASSWORDS
    result = _run([docker_compose, "-f", "compose.yaml", "config"], env)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def test_compose_file_parses(docker_compose: str) -> None:
    result = _run([docker_compose, "-f", "compose.yaml", "config", "--services"])
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"db", "migrate", "api", "shop-graphs"}


def test_the_superuser_is_not_the_owner_and_its_password_stays_in_db(
    config: dict[str, Any],
) -> None:
    services = config["services"]
    db = services["db"]["environment"]
    assert db["POSTGRES_USER"] == "postgres"
    assert db["POSTGRES_USER"] != "ro_owner"
    assert db["POSTGRES_PASSWORD"] == PASSWORDS["POSTGRES_SUPERUSER_PASSWORD"]
    assert db["RO_OWNER_DB_PASSWORD"] == PASSWORDS["RO_OWNER_DB_PASSWORD"]
    assert "POSTGRES_DB" not in db  # the init script creates ro_assistant, owned by ro_owner
    migrate = services["migrate"]["environment"]
    assert migrate["DATABASE_URL"].startswith("postgresql://ro_owner:owner-pw-2@db:5432/")
    assert migrate["APP_DATABASE_URL"].startswith("postgresql://ro_app:app-pw-3@db:5432/")
    assert "DATABASE_URL" not in services["api"]["environment"]
    # The graph job builds indexes: the owner's, and only for `db index-shops`.
    graphs = services["shop-graphs"]
    assert graphs["environment"]["DATABASE_URL"] == migrate["DATABASE_URL"]
    assert graphs["command"][:3] == ["ro-assistant", "db", "index-shops"]
    for name in ("migrate", "api", "shop-graphs"):
        assert PASSWORDS["POSTGRES_SUPERUSER_PASSWORD"] not in yaml.safe_dump(services[name])


def test_the_init_script_is_mounted_and_runnable(config: dict[str, Any]) -> None:
    mounts = []
    for volume in config["services"]["db"]["volumes"]:
        source, target, *options = volume.split(":")
        mounts.append((Path(source), target, options))
    assert (INIT_DIR, INIT_TARGET, ["ro"]) in mounts
    assert sorted(p.name for p in INIT_DIR.iterdir()) == [INIT_SCRIPT.name]
    # The image runs an executable *.sh (a plain one would be sourced into its own shell).
    assert os.access(INIT_SCRIPT, os.X_OK)
    syntax = _run(["sh", "-n", str(INIT_SCRIPT)])
    assert syntax.returncode == 0, syntax.stderr


def test_the_init_script_creates_an_owner_that_is_not_a_superuser() -> None:
    script = INIT_SCRIPT.read_text()
    role = re.search(r"CREATE ROLE ro_owner WITH([^;]*);", script)
    assert role is not None
    attributes = role.group(1).split()
    assert {"LOGIN", "NOSUPERUSER", "NOBYPASSRLS", "CREATEROLE"} <= set(attributes)
    assert "SUPERUSER" not in attributes
    assert "BYPASSRLS" not in attributes
    # The password comes from the environment, never from the file.
    assert "PASSWORD :'owner_password'" in role.group(1)
    assert r"\getenv owner_password RO_OWNER_DB_PASSWORD" in script
    assert "CREATE DATABASE ro_assistant OWNER ro_owner;" in script
    # pgvector is not a trusted extension: the superuser makes it, in ro_assistant.
    assert script.index(r"\connect ro_assistant") < script.index("CREATE EXTENSION")


def test_the_healthcheck_waits_for_the_owner_over_tcp(config: dict[str, Any]) -> None:
    check = " ".join(config["services"]["db"]["healthcheck"]["test"])
    assert "pg_isready" in check
    assert "-U ro_owner" in check
    assert "-d ro_assistant" in check
    assert "-h 127.0.0.1" in check  # the image's init-time server listens on a socket only
