"""Liveness and readiness over real HTTP handling (Litestar's test client, real database)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from assistant.api.app import create_app
from assistant.db import migrate
from assistant.settings import Settings
from tests.conftest import DatabaseUrls

pytestmark = pytest.mark.anyio


def settings_for(base: Settings, db: DatabaseUrls, migrations_dir: Path | None = None) -> Settings:
    return dataclasses.replace(
        base,
        database_url=db.owner_url,
        app_database_url=db.app_url,
        migrations_dir=migrations_dir or base.migrations_dir,
    )


async def test_ready_when_migrations_are_current(
    settings: Settings, migrated: DatabaseUrls
) -> None:
    async with AsyncTestClient(app=create_app(settings_for(settings, migrated))) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": "ok",
        "pending_migrations": [],
        "connections_in_use": 0,
        "connections_max": 10,
        "model": {"status": "not configured", "last_error": None, "last_error_s_ago": None},
    }


async def test_not_ready_while_a_migration_is_pending(
    settings: Settings, make_database: Callable[[], DatabaseUrls], tmp_path: Path
) -> None:
    db = make_database()
    files = sorted(settings.migrations_dir.glob("*.sql"))
    partial = tmp_path / "m"
    partial.mkdir()
    for f in files[:-1]:
        (partial / f.name).write_bytes(f.read_bytes())
    migrate.migrate(db.owner_url, partial, echo=lambda _: None)
    async with AsyncTestClient(app=create_app(settings_for(settings, db))) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["pending_migrations"] == [files[-1].name]


async def test_not_ready_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = dataclasses.replace(
        settings,
        database_url="postgresql://x@127.0.0.1:1/db",
        app_database_url="postgresql://ro_app:pw@127.0.0.1:1/db",
    )
    async with AsyncTestClient(app=create_app(unreachable)) as client:
        ready = await client.get("/readyz")
        schema = await client.get("/schema/openapi.json")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"
    assert schema.status_code == 200
