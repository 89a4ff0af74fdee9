"""The migration runner: numbered SQL files, each in its own transaction, recorded by sha256.

Files are immutable once applied, so an applied file whose bytes changed stops the run
before anything is applied: the schema it describes is no longer the schema in the database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from assistant.db.conninfo import APP_ROLE, ConfigError, connect

FILE_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
# Two runners at once would race on the ledger; the second waits for the first.
LOCK_KEY = 0x524F_4D49_4752  # "ROMIGR"

LEDGER_DDL = b"""
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    filename   text PRIMARY KEY,
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    def __init__(self, filename: str, message: str) -> None:
        super().__init__(f"{filename}: {message}")
        self.filename = filename


@dataclass(frozen=True, slots=True)
class MigrationFile:
    name: str
    sha256: str
    body: bytes

    @classmethod
    def read(cls, path: Path) -> MigrationFile:
        body = path.read_bytes()
        return cls(name=path.name, sha256=hashlib.sha256(body).hexdigest(), body=body)


def discover(migrations_dir: Path) -> list[MigrationFile]:
    if not migrations_dir.is_dir():
        raise ConfigError(f"migrations folder not found: {migrations_dir}")
    files = sorted(p for p in migrations_dir.iterdir() if p.suffix == ".sql")
    for path in files:
        if not FILE_NAME.match(path.name):
            raise MigrationError(path.name, "migration files are named NNNN_lower_snake.sql")
    return [MigrationFile.read(p) for p in files]


def applied(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    rows = conn.execute("SELECT filename, sha256 FROM public.schema_migrations").fetchall()
    return {str(name): str(digest) for name, digest in rows}


def pending(files: list[MigrationFile], ledger: dict[str, str]) -> list[MigrationFile]:
    """The files not yet applied; raises if an applied file was edited or removed."""
    on_disk = {f.name for f in files}
    for name in sorted(ledger):
        if name not in on_disk:
            raise MigrationError(name, "was applied but is missing from the migrations folder")
    for f in files:
        if f.name in ledger and ledger[f.name] != f.sha256:
            raise MigrationError(
                f.name,
                "was edited after it was applied (sha256 "
                f"{ledger[f.name][:12]}… in the database, {f.sha256[:12]}… on disk); "
                "migrations are immutable: add a new file instead",
            )
    return [f for f in files if f.name not in ledger]


def migrate(
    owner_url: str,
    migrations_dir: Path,
    *,
    app_password: str | None = None,
    echo: Callable[[str], None] = print,
) -> list[str]:
    """Apply pending files in order; returns their names. Stops at the first failure."""
    files = discover(migrations_dir)
    with connect(owner_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            conn.execute(LEDGER_DDL)
            todo = pending(files, applied(conn))
            ensure_app_role(conn, app_password)
            # The service's readiness check compares the ledger with the files it ships.
            conn.execute(
                sql.SQL("GRANT SELECT ON public.schema_migrations TO {}").format(
                    sql.Identifier(APP_ROLE)
                )
            )
            for f in todo:
                echo(f"applying {f.name}")
                _apply(conn, f)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return [f.name for f in todo]


def _apply(conn: psycopg.Connection[tuple[object, ...]], f: MigrationFile) -> None:
    try:
        with conn.transaction():
            conn.execute(f.body)
            conn.execute(
                "INSERT INTO public.schema_migrations (filename, sha256) VALUES (%s, %s)",
                [f.name, f.sha256],
            )
    except psycopg.Error as exc:
        raise MigrationError(f.name, _describe(exc, f.body)) from exc


def _describe(exc: psycopg.Error, body: bytes) -> str:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    where = ""
    if diag.statement_position:
        offset = int(diag.statement_position) - 1
        line = body.decode(errors="replace")[:offset].count("\n") + 1
        where = f" (line {line})"
    sqlstate = f" [{diag.sqlstate}]" if diag.sqlstate else ""
    return f"{message}{where}{sqlstate}"


def ensure_app_role(conn: psycopg.Connection[tuple[object, ...]], password: str | None) -> None:
    """The migrations grant to the application role, so it must exist before they run.

    It is created here rather than in a migration because roles belong to the whole
    server, not to one database, and its password is a secret that no file may hold.
    """
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [APP_ROLE]
    ).fetchone()
    if row is not None:
        if row[0] or row[1]:
            raise ConfigError(
                f"role {APP_ROLE} is a superuser or has BYPASSRLS; row-level security would "
                "not apply to it"
            )
        return
    if password is None:
        raise ConfigError(
            f"role {APP_ROLE} does not exist: set APP_DATABASE_URL (user {APP_ROLE} and its "
            "password) so the migration can create it"
        )
    conn.execute(
        sql.SQL(
            "CREATE ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
            "NOREPLICATION PASSWORD {}"
        ).format(sql.Identifier(APP_ROLE), sql.Literal(password))
    )
