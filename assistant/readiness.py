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

    @property
    def ready(self) -> bool:
        return self.database == "ok" and not self.pending_migrations


async def check(database: Database, migrations_dir: Path) -> Readiness:
    files = migrate.discover(migrations_dir)
    try:
        async with database.transaction(None) as session:
            rows = (
                await session.execute(text("SELECT filename, sha256 FROM public.schema_migrations"))
            ).all()
    except (DBAPIError, OSError):
        return Readiness(database="unreachable")
    ledger = {str(name): str(digest) for name, digest in rows}
    try:
        todo = migrate.pending(files, ledger)
    except migrate.MigrationError as exc:
        return Readiness(database=f"schema differs: {exc}")
    return Readiness(database="ok", pending_migrations=[f.name for f in todo])
