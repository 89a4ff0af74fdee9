"""Test databases on a real PostgreSQL: the embedded one, or the server in DATABASE_URL.

Each test session creates its own database from the real migrations; tests connect to it
as the unprivileged application role, so row-level security applies exactly as in
production.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from assistant.db import conninfo, migrate
from assistant.db.embedded import EmbeddedPostgres
from assistant.db.session import Database
from assistant.pii.keyring import KeyRing
from assistant.settings import Settings
from assistant.tenants.repository import Tenant
from assistant.tenants.service import create_tenant


@dataclass(frozen=True, slots=True)
class DatabaseUrls:
    name: str
    owner_url: str = field(repr=False)
    app_url: str = field(repr=False)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The environment's settings, with a throwaway key ring and token secret: tests never
    depend on (or write) the developer's own."""
    return dataclasses.replace(
        Settings.from_env(),
        keyring_json=KeyRing.generate().to_json(),
        keyring_file=None,
        token_secret=secrets.token_urlsafe(32),
    )


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[tuple[str, str]]:
    """(owner URL, app URL) of the server's main database; starts the embedded one if needed."""
    if settings.embedded:
        embedded = EmbeddedPostgres(settings.data_dir)
        was_running = embedded.is_running()
        embedded.start()
        yield conninfo.owner_url(settings), conninfo.app_url(settings)
        if not was_running:
            embedded.stop()
    else:
        yield conninfo.owner_url(settings), conninfo.app_url(settings)


@pytest.fixture(scope="session")
def make_database(server: tuple[str, str]) -> Iterator[Callable[[], DatabaseUrls]]:
    """Creates empty databases (pgvector already installed) and drops them at the end."""
    owner_url, app_url = server
    created: list[str] = []

    def create() -> DatabaseUrls:
        name = f"ro_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(owner_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name))
            )
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(name), sql.Identifier(conninfo.APP_ROLE)
                )
            )
        created.append(name)
        return DatabaseUrls(
            name=name,
            owner_url=conninfo.with_database(owner_url, name),
            app_url=conninfo.with_database(app_url, name),
        )

    yield create
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for name in created:
            _drop(conn, name)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop a test database once its last connection has gone (the owner may not kill them)."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    for _ in range(50):
        try:
            conn.execute(statement)
        except psycopg.errors.ObjectInUse:
            time.sleep(0.2)
        else:
            return
    warnings.warn(f"test database {name} still in use; left behind", stacklevel=1)


@pytest.fixture(scope="session")
def migrated(make_database: Callable[[], DatabaseUrls], settings: Settings) -> DatabaseUrls:
    """One database per session with every migration applied."""
    db = make_database()
    migrate.migrate(db.owner_url, settings.migrations_dir, echo=lambda _line: None)
    return db


@pytest.fixture
async def app_db(migrated: DatabaseUrls) -> AsyncIterator[Database]:
    database = Database(migrated.app_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def ring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
async def shop(app_db: Database) -> Tenant:
    """A fresh shop in the session database, so tests never see each other's rows."""
    return await create_tenant(app_db, f"shop-{uuid.uuid4().hex[:12]}", "Test Shop")


@dataclass(frozen=True, slots=True)
class DemoService:
    """A database loaded by `ro-assistant demo load`, run the way a user runs it."""

    db: DatabaseUrls
    work: Path
    env: dict[str, str] = field(repr=False)

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )


@pytest.fixture(scope="session")
def demo_service(
    make_database: Callable[[], DatabaseUrls],
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> DemoService:
    db = make_database()
    migrate.migrate(db.owner_url, settings.migrations_dir, echo=lambda _line: None)
    work = tmp_path_factory.mktemp("service")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RO_ASSISTANT_")} | {
        "DATABASE_URL": db.owner_url,
        "APP_DATABASE_URL": db.app_url,
        "RO_ASSISTANT_DATA_DIR": str(work / "data"),
        "RO_ASSISTANT_MODEL_DIR": str(settings.model_path),
        "RO_ASSISTANT_LOG_FILE": str(work / "service.log"),
        "RO_ASSISTANT_LOG_LEVEL": "DEBUG",
    }
    service = DemoService(db, work, env)
    for args in (["keys", "generate"], ["demo", "load", "--no-show-logins"], ["db", "index-shops"]):
        result = service.cli(*args)
        assert result.returncode == 0, result.stderr[-2000:]
    return service
