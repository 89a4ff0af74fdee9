"""assistant/db/tables.py must describe exactly what the migrations created."""

from __future__ import annotations

import psycopg

from assistant.db.tables import metadata
from tests.conftest import DatabaseUrls


def test_table_descriptions_match_the_migrated_schema(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.owner_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, a.attname, a.attnotnull FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " AND a.attnum > 0 AND NOT a.attisdropped"
        ).fetchall()
    in_database: dict[str, set[tuple[str, bool]]] = {}
    for table, column, not_null in rows:
        in_database.setdefault(table, set()).add((column, not_null))
    described = {
        table.name: {(c.name, not c.nullable) for c in table.columns}
        for table in metadata.tables.values()
    }
    assert described == in_database
