"""Which server and role each part of the system connects as.

Migrations run as the owner role; everything else (the API, CLI jobs, the tests) as the
unprivileged application role, so row-level security always applies to it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from assistant.settings import Settings

OWNER_ROLE = "ro_owner"
APP_ROLE = "ro_app"


class ConfigError(RuntimeError):
    """The settings do not say how to reach the database."""


def make_url(*, user: str, password: str, host: str, port: int, dbname: str) -> str:
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{dbname}"


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname") or "")


def server_address(url: str) -> str:
    """`host:port` of a connection URL, for error messages that must not show the password."""
    params = conninfo_to_dict(url)
    host = str(params.get("host") or "localhost")
    port = str(params.get("port") or 5432)
    return f"{host}:{port}"


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy needs the driver named; libpq-style URLs do not carry one."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        scheme = "postgresql+psycopg"
    return f"{scheme}://{rest}"


def owner_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url
    from assistant.db.embedded import EmbeddedPostgres

    return EmbeddedPostgres(settings.data_dir).url(OWNER_ROLE)


def app_url(settings: Settings) -> str:
    if settings.app_database_url is not None:
        return settings.app_database_url
    if settings.database_url is not None:
        raise ConfigError(
            "DATABASE_URL is set but APP_DATABASE_URL is not: the service connects as the "
            f"application role ({APP_ROLE}), never as the owner"
        )
    from assistant.db.embedded import EmbeddedPostgres

    return EmbeddedPostgres(settings.data_dir).url(APP_ROLE)


class DatabaseUnreachable(RuntimeError):
    """No PostgreSQL answered at the configured address (or it refused our credentials)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"cannot connect to PostgreSQL at {address}: {reason}")
        self.address = address


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(server_address(url), connect_failure_reason(exc)) from exc


def connect_failure_reason(exc: BaseException | None) -> str:
    text = str(exc or "").strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    # libpq says 'connection to server at "h" (h), port p failed: <reason>'; keep the reason.
    return first.rsplit("failed: ", 1)[-1]
