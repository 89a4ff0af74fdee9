"""The audit log: append-only, ADMIN-only reads, a per-tenant hash chain made in the database."""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.conftest import DatabaseUrls
from tests.db.seed import SeededTenant, seed_tenant, set_context

INSERT_AUDIT = (
    "INSERT INTO app.audit_log (tenant_id, actor_user_id, actor_role, action, object_type,"
    " object_id, pii_fields, purpose, outcome) VALUES (%s, %s, %s, 'pii.reveal',"
    " 'repair_order', %s, '{phone}', 'callback', %s)"
)


@pytest.fixture
def shop(migrated: DatabaseUrls) -> SeededTenant:
    return seed_tenant(migrated.app_url, f"audit-{uuid.uuid4().hex[:8]}")


def chain(url: str, shop: SeededTenant) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        return conn.execute(
            "SELECT seq, prev_hash, hash, app.audit_row_hash(a) = hash, outcome"
            " FROM app.audit_log a ORDER BY seq"
        ).fetchall()


def assert_chain_intact(rows: list[tuple[Any, ...]]) -> None:
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0][1] == bytes(32)
    for earlier, later in itertools.pairwise(rows):
        assert later[1] == earlier[2]
    assert all(r[3] for r in rows)


def test_tech_refusal_is_chained_but_unreadable_to_tech(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        conn.execute(
            INSERT_AUDIT, [shop.tenant_id, shop.tech_id, "TECH", str(shop.ro_id), "denied"]
        )
        assert conn.execute("SELECT count(*) FROM app.audit_log").fetchone() == (0,)
        conn.commit()
    rows = chain(migrated.app_url, shop)
    assert [r[4] for r in rows] == ["allowed", "denied"]
    assert_chain_intact(rows)


def test_client_cannot_choose_sequence_hash_or_time(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        conn.execute(
            "INSERT INTO app.audit_log (tenant_id, action, outcome, seq, prev_hash, hash,"
            " created_at) VALUES (%s, 'forge', 'allowed', 99, %s, %s, '2001-01-01')",
            [shop.tenant_id, b"\x01" * 32, b"\x02" * 32],
        )
        row = conn.execute(
            "SELECT seq, hash <> %s, created_at > '2020-01-01' FROM app.audit_log"
            " WHERE action = 'forge'",
            [b"\x02" * 32],
        ).fetchone()
    assert row == (2, True, True)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE app.audit_log SET outcome = 'allowed'",
        "DELETE FROM app.audit_log",
        "TRUNCATE app.audit_log",
    ],
)
def test_application_role_cannot_change_the_log(
    migrated: DatabaseUrls, shop: SeededTenant, statement: str
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement.encode())


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE app.audit_log SET outcome = 'allowed'",
        "DELETE FROM app.audit_log",
        "TRUNCATE app.audit_log",
    ],
)
def test_even_the_owner_cannot_change_the_log(
    migrated: DatabaseUrls, shop: SeededTenant, statement: str
) -> None:
    """RLS has no UPDATE/DELETE policy, so the owner sees nothing to change; TRUNCATE,
    which RLS does not cover, is stopped by the trigger."""
    before = chain(migrated.app_url, shop)
    with psycopg.connect(migrated.owner_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        try:
            changed: int | str = conn.execute(statement.encode()).rowcount
            conn.commit()
        except psycopg.errors.InsufficientPrivilege as exc:
            changed = "refused" if "append-only" in str(exc) else str(exc)
    assert changed == ("refused" if statement.startswith("TRUNCATE") else 0)
    assert chain(migrated.app_url, shop) == before


def test_concurrent_writers_keep_one_unbroken_chain(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    def write(i: int) -> None:
        with psycopg.connect(migrated.app_url) as conn:
            for _ in range(5):
                set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
                conn.execute(
                    INSERT_AUDIT,
                    [shop.tenant_id, shop.tech_id, "TECH", f"ro-{i}", "denied"],
                )
                conn.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    rows = chain(migrated.app_url, shop)
    assert len(rows) == 1 + 8 * 5
    assert_chain_intact(rows)


def test_tampering_is_detectable(migrated: DatabaseUrls, shop: SeededTenant) -> None:
    """A row changed behind the triggers' back no longer matches its hash."""
    with psycopg.connect(migrated.owner_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        # Only the owner can do this, by switching both safeguards off (then rolled back).
        conn.execute("ALTER TABLE app.audit_log DISABLE TRIGGER audit_log_no_update_delete")
        conn.execute("ALTER TABLE app.audit_log NO FORCE ROW LEVEL SECURITY")
        conn.execute(
            "UPDATE app.audit_log SET purpose = 'edited' WHERE tenant_id = %s", [shop.tenant_id]
        )
        rows = conn.execute(
            "SELECT app.audit_row_hash(a) = hash FROM app.audit_log a WHERE tenant_id = %s",
            [shop.tenant_id],
        ).fetchall()
        conn.rollback()
    assert rows == [(False,)]
