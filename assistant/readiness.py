"""Whether this process can serve: the database answers and its schema is the one on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from assistant.db import migrate
from assistant.db.session import Database


@dataclass(frozen=True, slots=True)
class Readiness:
    database: str
    pending_migrations: list[str] = field(default_factory=list)
    connections_in_use: int = 0
    connections_max: int = 0

    @property
    def ready(self) -> bool:
        return self.database == "ok" and not self.pending_migrations


async def check(database: Database, migrations_dir: Path) -> Readiness:
    """Never waits for a connection: with every one in use the answer is "pool exhausted"
    at once, which is what a load balancer needs to hear."""
    files = migrate.discover(migrations_dir)
    in_use, most = database.connections_in_use(), database.capacity

    def state(db: str, pending: list[str] | None = None) -> Readiness:
        return Readiness(db, pending or [], in_use, most)

    if in_use >= most:
        return state("pool exhausted")
    try:
        async with database.transaction(None) as session:
            rows = (
                await session.execute(text("SELECT filename, sha256 FROM public.schema_migrations"))
            ).all()
    except (DBAPIError, OSError):
        return state("unreachable")
    ledger = {str(name): str(digest) for name, digest in rows}
    try:
        todo = migrate.pending(files, ledger)
    except migrate.MigrationError as exc:
        return state(f"schema differs: {exc}")
    return state("ok", [f.name for f in todo])
