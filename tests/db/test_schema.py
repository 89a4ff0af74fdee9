"""The schema as the catalog sees it: RLS everywhere, an application role with no power."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.conftest import DatabaseUrls
from tests.db.catalog import tenant_tables

EXPECTED_TENANT_TABLES = {
    "tenants",
    "users",
    "documents",
    "repair_orders",
    "ro_lines",
    "ro_labor_lines",
    "ro_parts_lines",
    "pii_vault",
    "ro_chunks",
    "assistant_conversations",
    "assistant_messages",
    "audit_log",
    "audit_chain_heads",
}

PII_COLUMN = re.compile(
    r"(customer|phone|vin|plate|address|street|zip|payment|card|email)", re.IGNORECASE
)
# Non-PII columns whose names look like PII: blind indexes, and the employee login.
PII_COLUMN_ALLOWED = {
    ("repair_orders", "vin_bidx"),
    ("repair_orders", "plate_bidx"),
    ("users", "email"),
}


def test_every_tenant_table_has_rls_enabled_forced_and_a_policy(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.owner_url) as conn:
        tables = tenant_tables(conn)
        assert set(tables) >= EXPECTED_TENANT_TABLES
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'app' AND c.relname = ANY(%s)",
            [tables],
        ).fetchall()
    problems = [
        f"{name}: enabled={enabled} forced={forced} policies={policies}"
        for name, enabled, forced, policies in rows
        if not (enabled and forced and policies > 0)
    ]
    assert problems == []
    assert len(rows) == len(tables)


def test_policies_all_name_the_tenant(migrated: DatabaseUrls) -> None:
    """Except the directory's: read-only, for ro_directory alone (owner of a few functions)."""
    with psycopg.connect(migrated.owner_url) as conn:
        rows = conn.execute(
            "SELECT tablename, policyname, roles::text[], cmd,"
            " coalesce(qual, '') || coalesce(with_check, '')"
            " FROM pg_policies WHERE schemaname = 'app'"
        ).fetchall()
    assert rows
    untenanted = [
        (t, p, roles, cmd) for t, p, roles, cmd, expr in rows if "current_tenant_id()" not in expr
    ]
    assert sorted(untenanted) == [
        ("tenants", "tenants_directory_read", ["ro_directory"], "SELECT"),
        ("users", "users_directory_read", ["ro_directory"], "SELECT"),
    ]


def test_application_role_cannot_act_as_the_directory(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        member = conn.execute(
            "SELECT pg_has_role(current_user, 'ro_directory', 'MEMBER')"
        ).fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET ROLE ro_directory")
    assert member == (False,)


def test_no_plaintext_pii_column_outside_the_vault(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.owner_url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'app' AND table_name <> 'pii_vault'"
        ).fetchall()
    suspicious = {
        (t, c) for t, c in columns if PII_COLUMN.search(c) and (t, c) not in PII_COLUMN_ALLOWED
    }
    assert suspicious == set()


def test_application_role_is_powerless(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication"
            " FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        owned = conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
            " UNION ALL SELECT p.proname FROM pg_proc p WHERE p.proowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
            " UNION ALL SELECT nspname FROM pg_namespace WHERE nspowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchall()
        can_create = conn.execute(
            "SELECT has_schema_privilege('app', 'CREATE'), has_schema_privilege('public', 'CREATE')"
        ).fetchone()
    assert role == (False, False, False, False, False)
    assert owned == []
    assert can_create == (False, False)


def test_audit_log_grants_are_insert_and_select_only(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        privileges = {
            priv: conn.execute("SELECT has_table_privilege('app.audit_log', %s)", [priv]).fetchone()
            for priv in ("INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE")
        }
        heads = conn.execute(
            "SELECT has_table_privilege('app.audit_chain_heads', 'SELECT'),"
            " has_table_privilege('app.audit_chain_heads', 'UPDATE')"
        ).fetchone()
    assert {k: v[0] for k, v in privileges.items() if v} == {
        "INSERT": True,
        "SELECT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
    }
    assert heads == (False, False)
