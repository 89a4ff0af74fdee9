"""Row-level security as the application role: fail closed, and no shop touches another's rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.conftest import DatabaseUrls
from tests.db.catalog import insertable_columns, tenant_tables
from tests.db.seed import SeededTenant, seed_tenant, set_context

INSUFFICIENT_PRIVILEGE = "42501"


@dataclass(frozen=True, slots=True)
class Shops:
    a: SeededTenant
    b: SeededTenant
    tables: list[str]
    b_rows: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def shops(migrated: DatabaseUrls) -> Shops:
    a = seed_tenant(migrated.app_url, f"shop-a-{uuid.uuid4().hex[:6]}")
    b = seed_tenant(migrated.app_url, f"shop-b-{uuid.uuid4().hex[:6]}")
    with psycopg.connect(migrated.owner_url) as conn:
        tables = tenant_tables(conn, partitions=False)
        set_context(conn, b.tenant_id, "ADMIN", b.admin_id)
        b_rows: dict[str, dict[str, Any]] = {}
        for table in tables:
            # By tenant, not by policy alone: the owner is a member of ro_directory, whose
            # policy reads every shop's row of app.tenants.
            row = conn.execute(
                sql.SQL("SELECT to_jsonb(x) FROM app.{} x WHERE tenant_id = %s LIMIT 1").format(
                    sql.Identifier(table)
                ),
                [b.tenant_id],
            ).fetchone()
            # A table without a seeded row would make the matrix below vacuous for it:
            # extend tests/db/seed.py when adding a tenant table.
            assert row is not None, f"seed.py writes no row into app.{table}"
            b_rows[table] = row[0]
    return Shops(a=a, b=b, tables=tables, b_rows=b_rows)


def snapshot(owner_url: str, shop: SeededTenant, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Row count and checksum of each table as the shop's ADMIN sees it (owner connection)."""
    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(owner_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        for table in tables:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(to_jsonb(x)::text, '|'"
                    " ORDER BY to_jsonb(x)::text), '')) FROM app.{} x"
                ).format(sql.Identifier(table))
            ).fetchone()
            assert row is not None
            out[table] = (int(row[0]), str(row[1]))
    return out


def insert_copy(conn: psycopg.Connection[Any], table: str, row: dict[str, Any]) -> None:
    cols = insertable_columns(conn, table)
    ident = sql.Identifier(table)
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    conn.execute(
        sql.SQL(
            "INSERT INTO app.{} ({}) SELECT {} FROM jsonb_populate_record(NULL::app.{}, %s)"
        ).format(ident, col_list, col_list, ident),
        [Jsonb(row)],
    )


def outcome(
    conn: psycopg.Connection[Any],
    statement: sql.SQL | sql.Composed,
    params: list[Any] | None = None,
) -> str | int:
    """Rows affected, or the SQLSTATE of the refusal; run in a savepoint."""
    try:
        with conn.transaction():
            return int(conn.execute(statement, params).rowcount)
    except psycopg.Error as exc:
        return str(exc.sqlstate)


BAD_TENANTS = ["", "not-a-uuid", "1234", "' OR true --"]


def app_conn(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url)


@pytest.mark.parametrize("tenant", [None, *BAD_TENANTS, "random"])
def test_without_a_valid_tenant_every_table_is_empty_and_refuses_writes(
    migrated: DatabaseUrls, shops: Shops, tenant: str | None
) -> None:
    with app_conn(migrated.app_url) as conn:
        if tenant is None:
            # Nothing set at all on a fresh connection, but the most powerful role.
            conn.execute("SELECT set_config('app.role', 'ADMIN', true)")
        else:
            value = str(uuid.uuid4()) if tenant == "random" else tenant
            set_context(conn, value, "ADMIN", shops.b.admin_id)
        for table in shops.tables:
            ident = sql.Identifier(table)
            seen = outcome(conn, sql.SQL("SELECT 1 FROM app.{}").format(ident))
            assert seen in (0, INSUFFICIENT_PRIVILEGE), f"{table} showed rows"
            refused = outcome_insert(conn, table, shops.b_rows[table])
            assert refused == INSUFFICIENT_PRIVILEGE, f"{table} accepted a write"


def outcome_insert(conn: psycopg.Connection[Any], table: str, row: dict[str, Any]) -> str | int:
    try:
        with conn.transaction():
            insert_copy(conn, table, row)
    except psycopg.Error as exc:
        return str(exc.sqlstate)
    return 1


def test_cross_tenant_matrix_touches_none_of_the_other_shops_rows(
    migrated: DatabaseUrls, shops: Shops
) -> None:
    a, b = shops.a, shops.b
    before_b = snapshot(migrated.owner_url, b, shops.tables)
    before_a = snapshot(migrated.owner_url, a, shops.tables)
    results: dict[str, dict[str, str | int]] = {}
    with app_conn(migrated.app_url) as conn:
        set_context(conn, a.tenant_id, "ADMIN", a.admin_id)
        for table in shops.tables:
            ident = sql.Identifier(table)
            where_b = [b.tenant_id]
            results[table] = {
                "select": outcome(
                    conn,
                    sql.SQL("SELECT 1 FROM app.{} WHERE tenant_id = %s").format(ident),
                    where_b,
                ),
                "update": outcome(
                    conn,
                    sql.SQL("UPDATE app.{} SET tenant_id = tenant_id WHERE tenant_id = %s").format(
                        ident
                    ),
                    where_b,
                ),
                "delete": outcome(
                    conn,
                    sql.SQL("DELETE FROM app.{} WHERE tenant_id = %s").format(ident),
                    where_b,
                ),
                "move_own_row_to_b": outcome(
                    conn, sql.SQL("UPDATE app.{} SET tenant_id = %s").format(ident), where_b
                ),
                "insert_as_b": outcome_insert(conn, table, shops.b_rows[table]),
            }
        conn.commit()

    for table, ops in results.items():
        assert ops["select"] in (0, INSUFFICIENT_PRIVILEGE), (table, ops)
        assert ops["update"] in (0, INSUFFICIENT_PRIVILEGE), (table, ops)
        assert ops["delete"] in (0, INSUFFICIENT_PRIVILEGE), (table, ops)
        assert ops["move_own_row_to_b"] == INSUFFICIENT_PRIVILEGE, (table, ops)
        assert ops["insert_as_b"] == INSUFFICIENT_PRIVILEGE, (table, ops)
    assert snapshot(migrated.owner_url, b, shops.tables) == before_b
    assert snapshot(migrated.owner_url, a, shops.tables) == before_a
    assert all(count > 0 for count, _ in before_b.values())


def test_tech_cannot_read_or_write_the_vault(migrated: DatabaseUrls, shops: Shops) -> None:
    a = shops.a
    with app_conn(migrated.app_url) as conn:
        set_context(conn, a.tenant_id, "TECH", a.tech_id)
        assert outcome(conn, sql.SQL("SELECT 1 FROM app.pii_vault")) == 0
        assert (
            outcome(
                conn,
                sql.SQL("UPDATE app.pii_vault SET key_ref = 'stolen' WHERE ro_id = %s"),
                [a.ro_id],
            )
            == 0
        )
        assert outcome(conn, sql.SQL("DELETE FROM app.pii_vault WHERE ro_id = %s"), [a.ro_id]) == 0
        row = dict(shops.b_rows["pii_vault"], tenant_id=str(a.tenant_id), ro_id=str(a.ro_id))
        assert outcome_insert(conn, "pii_vault", row) == INSUFFICIENT_PRIVILEGE
        conn.commit()
    with app_conn(migrated.app_url) as conn:
        set_context(conn, a.tenant_id, "PII_APPROVED", a.admin_id)
        assert outcome(conn, sql.SQL("SELECT 1 FROM app.pii_vault")) == 1
        assert (
            outcome(
                conn, sql.SQL("UPDATE app.pii_vault SET key_ref = 'x' WHERE ro_id = %s"), [a.ro_id]
            )
            == 0
        )
        set_context(conn, a.tenant_id, "ADMIN", a.admin_id)
        key_ref = conn.execute("SELECT key_ref FROM app.pii_vault").fetchall()
    assert key_ref == [("k1",)]


def test_role_setting_outside_the_enum_reads_as_no_role(
    migrated: DatabaseUrls, shops: Shops
) -> None:
    with app_conn(migrated.app_url) as conn:
        set_context(conn, shops.a.tenant_id, "admin", shops.a.admin_id)
        assert outcome(conn, sql.SQL("SELECT 1 FROM app.pii_vault")) == 0
        assert conn.execute("SELECT app.current_role()").fetchone() == (None,)


def test_users_see_only_their_own_conversations(migrated: DatabaseUrls, shops: Shops) -> None:
    a = shops.a
    with app_conn(migrated.app_url) as conn:
        set_context(conn, a.tenant_id, "TECH", a.tech_id)
        assert outcome(conn, sql.SQL("SELECT 1 FROM app.assistant_conversations")) == 0
        assert outcome(conn, sql.SQL("SELECT 1 FROM app.assistant_messages")) == 0
        assert outcome(conn, sql.SQL("UPDATE app.assistant_conversations SET title = 'x'")) == 0
        set_context(conn, a.tenant_id, "ADMIN", a.tech_id)
        # An ADMIN may read another user's conversation (the service audits it) ...
        assert outcome(conn, sql.SQL("SELECT 1 FROM app.assistant_conversations")) == 1
        # ... but not change it.
        assert outcome(conn, sql.SQL("DELETE FROM app.assistant_conversations")) == 0


def test_partitions_are_reachable_only_through_their_parent(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.owner_url) as conn:
        partitions = sorted(set(tenant_tables(conn)) - set(tenant_tables(conn, partitions=False)))
    assert [p for p in partitions if p.startswith("ro_chunks_h")] == [
        f"ro_chunks_h{i:02d}" for i in range(64)
    ]
    with app_conn(migrated.app_url) as conn:
        granted = [
            p
            for p in partitions
            if conn.execute(
                "SELECT has_table_privilege(%s, 'SELECT') OR has_table_privilege(%s, 'INSERT')",
                [f"app.{p}", f"app.{p}"],
            ).fetchone()
            != (False,)
        ]
    assert granted == []


def test_only_an_admin_writes_users_and_the_shop(migrated: DatabaseUrls, shops: Shops) -> None:
    a = shops.a
    with app_conn(migrated.app_url) as conn:
        for role in ("TECH", "PII_APPROVED"):
            set_context(conn, a.tenant_id, role, a.tech_id)
            assert outcome(conn, sql.SQL("SELECT 1 FROM app.users")) == 2
            assert outcome(conn, sql.SQL("UPDATE app.users SET role = 'ADMIN'")) == 0
            assert outcome(conn, sql.SQL("UPDATE app.tenants SET name = 'mine'")) == 0
            row = {
                "tenant_id": str(a.tenant_id),
                "email": f"x-{role.lower()}@a.example",
                "pass_hash": "x",
                "role": "ADMIN",
            }
            assert outcome_insert(conn, "users", row) == INSUFFICIENT_PRIVILEGE
        set_context(conn, a.tenant_id, "ADMIN", a.admin_id)
        assert outcome(conn, sql.SQL("UPDATE app.users SET is_active = true")) == 2
        conn.rollback()
