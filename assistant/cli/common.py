"""What every command shares: settings, one database per command, the key ring, errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import sqlalchemy.exc
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from assistant.db import conninfo, embedded, migrate
from assistant.db.conninfo import ConfigError, DatabaseUnreachable
from assistant.db.session import Database
from assistant.pii import keyring
from assistant.pii.keyring import KeyRing, KeyRingError
from assistant.pii.reveal import InvalidRevealRequest
from assistant.settings import Settings, SettingsError
from assistant.tenants.passwords import WeakPassword
from assistant.tenants.service import TenantError

EXPECTED_ERRORS = (
    ConfigError,
    SettingsError,
    DatabaseUnreachable,
    embedded.EmbeddedError,
    migrate.MigrationError,
    KeyRingError,
    TenantError,
    WeakPassword,
    InvalidRevealRequest,
)

T = TypeVar("T")


def run_with_database(settings: Settings, job: Callable[[Database], Awaitable[T]]) -> T:
    """Run one command's work on one engine, as the application role."""
    url = conninfo.app_url(settings)

    async def go() -> T:
        database = Database(url, pool_size=2, max_overflow=2)
        try:
            return await job(database)
        except sqlalchemy.exc.OperationalError as exc:
            if exc.connection_invalidated or _is_connect_error(exc):
                raise DatabaseUnreachable(
                    conninfo.server_address(url), conninfo.connect_failure_reason(exc.orig)
                ) from None
            raise
        finally:
            await database.dispose()

    return asyncio.run(go())


def _is_connect_error(exc: sqlalchemy.exc.OperationalError) -> bool:
    return "connection" in str(exc.orig).lower()


def load_keyring(settings: Settings) -> KeyRing:
    return keyring.load(settings.keyring_json, settings.keyring_path)


def progress_bar() -> Progress:
    """A progress bar on stderr when it is a terminal; silent in pipes, logs and CI."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not sys.stderr.isatty(),
        transient=True,
    )
