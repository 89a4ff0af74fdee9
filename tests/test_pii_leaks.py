"""After the demo shops are loaded, no vault value appears anywhere outside the vault.

The scan covers every column of every table (as text, row by row, through each shop's
ADMIN context) and every file the service wrote: its log and anything in its data folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from assistant.pii import keyring, vault
from assistant.pii.sealing import Sealed
from tests.conftest import DatabaseUrls, DemoService
from tests.db.catalog import tenant_tables
from tests.db.seed import set_context

SHOPS, ROS_PER_SHOP = 2, 400  # what `ro-assistant demo load` loads by default


@pytest.fixture(scope="module")
def loaded(demo_service: DemoService) -> tuple[DatabaseUrls, Path]:
    return demo_service.db, demo_service.work


def vault_values(db: DatabaseUrls, work: Path) -> tuple[list[str], list[Any]]:
    """Every PII string in every vault payload, and each shop's tenant id (read as the
    owner: the app role cannot select the ciphertext)."""
    ring = keyring.load(None, work / "data" / "keyring.json")
    values: set[str] = set()
    with psycopg.connect(db.owner_url) as conn:
        shops = [
            r[0] for r in conn.execute("SELECT tenant_id FROM app.directory_tenants()").fetchall()
        ]
        for tenant in shops:
            set_context(conn, tenant, "ADMIN")
            for ro_id, key_ref, nonce, ciphertext in conn.execute(
                "SELECT ro_id, key_ref, nonce, ciphertext FROM app.pii_vault"
            ).fetchall():
                payload = vault.open_payload(
                    ring, tenant, ro_id, Sealed(key_ref, nonce, ciphertext)
                )
                values.update(_strings(payload))
            conn.commit()
    # City, state and zip are left out: short, common values that real non-PII text
    # (a shop's town, a mileage of 85701) can contain without leaking anything.
    return sorted(v for v in values if len(v) >= 6), shops


def _strings(payload: dict[str, Any]) -> list[str]:
    out = [
        payload.get(k) for k in ("customer_name", "email", "vin", "license_plate", "payment_method")
    ]
    out += payload.get("phones") or []
    out.append((payload.get("address") or {}).get("street"))
    return [v.lower() for v in out if isinstance(v, str)]


# Columns of these types cannot hold a customer's words: ids, numbers, dates, flags, vectors
# and keyed hashes (bytea). Every other column (text, json, tsvector, arrays) is searched.
NOT_TEXT = (
    "uuid",
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
    "boolean",
    "date",
    "timestamp with time zone",
    "timestamp without time zone",
    "bytea",
    "inet",
)


def leak_search(conn: psycopg.Connection[Any], schema: str, table: str) -> sql.Composed | None:
    """Each distinct row text of the table's word-holding columns, searched for every vault
    value by PostgreSQL (in C, and once per distinct text: postings repeat their terms)."""
    columns = [
        sql.SQL("{}::text").format(sql.Identifier(r[0]))
        for r in conn.execute(
            "SELECT a.attname FROM pg_attribute a"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
            " AND format_type(a.atttypid, NULL) <> ALL(%s) AND format_type(a.atttypid, NULL)"
            " NOT IN ('vector', 'halfvec')",
            [f"{schema}.{table}", list(NOT_TEXT)],
        )
    ]
    if not columns:
        return None  # nothing in it can hold a word
    return sql.SQL(
        "WITH r AS MATERIALIZED (SELECT DISTINCT lower(concat_ws(chr(31), {})) AS t FROM {} x)"
        " SELECT DISTINCT v FROM r, unnest(%s::text[]) AS v WHERE strpos(r.t, v) > 0"
    ).format(sql.SQL(", ").join(columns), sql.Identifier(schema, table))


def test_no_vault_value_in_any_other_column(loaded: tuple[DatabaseUrls, Path]) -> None:
    db, work = loaded
    values, shops = vault_values(db, work)
    assert len(shops) >= SHOPS  # API tests may add shops of their own; all are scanned
    assert len(values) > SHOPS * ROS_PER_SHOP / 3  # returning vehicles share customers
    leaks: list[tuple[str, str]] = []
    with psycopg.connect(db.owner_url) as conn:
        conn.execute("CREATE TEMP TABLE probe (id uuid, note text)")
        conn.execute("INSERT INTO probe VALUES (gen_random_uuid(), %s)", [f"Call {values[0]}!"])
        probe = leak_search(conn, "pg_temp", "probe")
        assert probe is not None
        assert (values[0],) in conn.execute(probe, [values])
        tables = [t for t in tenant_tables(conn, partitions=False) if t != "pii_vault"]
        searches = {
            table: search
            for table in tables
            if (search := leak_search(conn, "app", table)) is not None
        }
        for tenant in shops:
            set_context(conn, tenant, "ADMIN")
            for table, search in searches.items():
                leaks += [(table, v) for (v,) in conn.execute(search, [values])]
            conn.commit()
    assert {"ro_chunks", "ro_lines", "ro_chunk_terms"} <= set(searches)
    assert leaks == []


def test_stories_with_pii_were_scrubbed_not_skipped(loaded: tuple[DatabaseUrls, Path]) -> None:
    """The generator types customer PII into some stories; they must arrive as placeholders."""
    db, _ = loaded
    with psycopg.connect(db.owner_url) as conn:
        placeholders = 0
        for (tenant,) in conn.execute("SELECT tenant_id FROM app.directory_tenants()").fetchall():
            set_context(conn, tenant, "ADMIN")
            row = conn.execute(
                "SELECT count(*) FROM app.ro_lines WHERE concat_ws(' ', complaint, cause,"
                " correction) ~ '\\[(CUSTOMER_NAME|PHONE|EMAIL|VIN|LICENSE_PLATE)\\]'"
            ).fetchone()
            placeholders += row[0] if row else 0
    assert placeholders >= SHOPS * ROS_PER_SHOP * 0.03


def test_no_vault_value_in_any_file_the_service_wrote(loaded: tuple[DatabaseUrls, Path]) -> None:
    db, work = loaded
    values, _ = vault_values(db, work)
    files = [p for p in work.rglob("*") if p.is_file() and p.name != "keyring.json"]
    assert work / "service.log" in files
    assert (work / "service.log").stat().st_size > 0
    leaks = [
        (p.name, v)
        for p in files
        for v in values
        if v in p.read_bytes().decode("utf-8", "replace").lower()
    ]
    assert leaks == []
