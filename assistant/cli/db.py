"""`ro-assistant db …` and `serve`: the database's lifecycle, migrations, the HTTP server."""

from __future__ import annotations

import os
import time

import click
from psycopg.conninfo import conninfo_to_dict

from assistant.db import conninfo, embedded, migrate, shop_graphs
from assistant.db.conninfo import APP_ROLE, ConfigError
from assistant.settings import Settings


@click.group()
def db() -> None:
    """The database: start, stop, status, connection URLs, migrations."""


def _embedded(settings: Settings) -> embedded.EmbeddedPostgres:
    return embedded.EmbeddedPostgres(settings.data_dir)


@db.command()
@click.pass_obj
def start(settings: Settings) -> None:
    """Start the embedded PostgreSQL (initialising it on first use)."""
    if not settings.embedded:
        _check_reachable(settings)
        click.echo(f"DATABASE_URL is set: using the server at {_external_address(settings)}")
        return
    server = _embedded(settings)
    state = server.start()
    click.echo(
        f"embedded PostgreSQL running at {embedded.HOST}:{state.port}, "
        f"database {embedded.DATABASE} (data in {server.pgdata})"
    )


@db.command()
@click.pass_obj
def stop(settings: Settings) -> None:
    """Stop the embedded PostgreSQL."""
    if not settings.embedded:
        click.echo("DATABASE_URL is set: there is no embedded server to stop")
        return
    stopped = _embedded(settings).stop()
    click.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@db.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Say where the database is, whether it answers, and which migrations are pending."""
    if settings.embedded:
        server = _embedded(settings)
        if not server.is_running():
            click.echo(f"embedded PostgreSQL is not running (data in {server.pgdata})")
            raise SystemExit(3)
        port = server.state().port
        click.echo(
            f"embedded PostgreSQL running at {embedded.HOST}:{port} (data in {server.pgdata})"
        )
    url = conninfo.owner_url(settings)
    with conninfo.connect(url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        has_ledger = conn.execute(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL"
        ).fetchone()
        ledger = migrate.applied(conn) if has_ledger and has_ledger[0] else {}
    files = migrate.discover(settings.migrations_dir)
    todo = migrate.pending(files, ledger)
    click.echo(
        f"PostgreSQL {version[0] if version else '?'} at {conninfo.server_address(url)}, "
        f"database {conninfo.database_name(url)}: {len(ledger)} migrations applied, "
        f"{len(todo)} pending" + (f" ({', '.join(f.name for f in todo)})" if todo else "")
    )


@db.command()
@click.option("--role", type=click.Choice(["owner", "app"]), default="app", show_default=True)
@click.pass_obj
def url(settings: Settings, role: str) -> None:
    """Print a connection URL (it contains the password: for `psql "$(...)"`, not for logs)."""
    click.echo(conninfo.owner_url(settings) if role == "owner" else conninfo.app_url(settings))


@db.command(name="migrate")
@click.pass_obj
def migrate_command(settings: Settings) -> None:
    """Apply pending migrations as the owner role."""
    owner = conninfo.owner_url(settings)
    app_password = _app_password(settings)
    applied = migrate.migrate(
        owner, settings.migrations_dir, app_password=app_password, echo=click.echo
    )
    click.echo(f"{len(applied)} migrations applied" if applied else "database is up to date")


@db.command(name="index-shops")
@click.option(
    "--every",
    type=click.FloatRange(1, None),
    default=None,
    help="Seconds between passes; without it, one pass.",
)
@click.pass_obj
def index_shops(settings: Settings, every: float | None) -> None:
    """Give each shop past the exact-search size its own HNSW graph (as the owner).

    Builds run CONCURRENTLY, so searches and ingest go on meanwhile; run it after a big
    import, or leave it running with --every.
    """
    while True:
        with conninfo.connect(conninfo.owner_url(settings), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            done = shop_graphs.run_pass(conn, echo=click.echo)
        click.echo(
            f"shop graphs: {len(done.built)} built, {len(done.dropped)} dropped"
            f" in {done.seconds:.1f} s"
        )
        if every is None:
            return
        time.sleep(every)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes [default: one per CPU core].",
)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int | None) -> None:
    """Serve the HTTP API with uvicorn (one JSON access-log line per request).

    Each worker is a process of its own with its own embedder and connection pool; rate
    limits and login throttles are counted in PostgreSQL, so all of them enforce one limit.
    """
    import uvicorn

    from assistant.api.app import create_app

    conninfo.app_url(settings)  # fail here, in one line, if the database is not configured
    create_app(settings)  # a weak token secret stops start-up here, in one line
    count = workers or os.cpu_count() or 1
    click.echo(
        f"serving on http://{host}:{port} with {count} worker{'s' if count > 1 else ''}"
        " (OpenAPI at /schema)"
    )
    uvicorn.run(
        "assistant.api.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=count,
        log_level="warning",
        access_log=False,
    )


def _app_password(settings: Settings) -> str | None:
    try:
        app = conninfo.app_url(settings)
    except ConfigError:
        return None
    params = conninfo_to_dict(app)
    if params.get("user") not in (None, APP_ROLE):
        raise ConfigError(f"APP_DATABASE_URL must connect as {APP_ROLE}, not {params['user']}")
    password = params.get("password")
    return str(password) if password is not None else None


def _check_reachable(settings: Settings) -> None:
    with conninfo.connect(conninfo.owner_url(settings), autocommit=True):
        pass


def _external_address(settings: Settings) -> str:
    return conninfo.server_address(conninfo.owner_url(settings))
