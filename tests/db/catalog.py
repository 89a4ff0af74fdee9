"""What the tests learn from the catalog, so tables added later are covered automatically."""

from __future__ import annotations

from typing import Any

import psycopg

TENANT_TABLES = """
SELECT c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p')
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY c.relname
"""


def tenant_tables(conn: psycopg.Connection[Any], *, partitions: bool = True) -> list[str]:
    """Tables with a tenant_id column; partitions too unless asked not to (they are reached
    through their parent, and the application role has no grant on them)."""
    query = (
        TENANT_TABLES
        if partitions
        else TENANT_TABLES.replace("ORDER BY", "AND NOT c.relispartition ORDER BY")
    )
    return [str(row[0]) for row in conn.execute(query.encode()).fetchall()]


def insertable_columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    """From pg_attribute, which (unlike information_schema) shows tables we have no grant on."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute"
        " WHERE attrelid = ('app.' || quote_ident(%s))::regclass AND attnum > 0"
        " AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        [table],
    ).fetchall()
    return [str(r[0]) for r in rows]
