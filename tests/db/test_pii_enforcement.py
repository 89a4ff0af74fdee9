"""The PII rules held by the database itself (migration 0012), whatever SQL the application
role runs: no ciphertext without an audit row, actors taken from the context, no password
hashes, original files for ADMIN only, messages only into one's own conversations."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import psycopg
import pytest

from assistant.pii import vault
from tests.conftest import DatabaseUrls
from tests.db.seed import SeededTenant, seed_tenant, set_context

OPEN = "SELECT key_ref, nonce, ciphertext FROM app.pii_vault_open(%s, %s, %s, %s, %s, %s)"
ROTATION_BATCH = (
    "SELECT ro_id, key_ref, nonce, ciphertext"
    " FROM app.pii_vault_rotation_batch(%s, %s, %s, %s, 'rot-1', NULL, NULL)"
)
LAST_AUDIT_ROW = (
    "SELECT actor_user_id, actor_role, action, object_type, object_id, pii_fields, purpose,"
    " outcome, request_id, host(ip), user_agent FROM app.audit_log ORDER BY seq DESC LIMIT 1"
)


@pytest.fixture
def shop(migrated: DatabaseUrls) -> SeededTenant:
    return seed_tenant(migrated.app_url, f"pii-{uuid.uuid4().hex[:8]}")


def sealed_as_owner(migrated: DatabaseUrls, shop: SeededTenant) -> tuple[Any, ...]:
    with psycopg.connect(migrated.owner_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        row = conn.execute(
            "SELECT key_ref, nonce, ciphertext FROM app.pii_vault WHERE ro_id = %s", [shop.ro_id]
        ).fetchone()
    assert row is not None
    return tuple(row)


def open_vault(
    conn: psycopg.Connection[Any],
    ro_id: uuid.UUID,
    fields: list[str] | None = None,
    purpose: str = "callback about the estimate",
) -> list[tuple[Any, ...]]:
    return conn.execute(
        OPEN, [ro_id, fields or ["email", "phones"], purpose, "req-7", "10.1.2.3", "pytest"]
    ).fetchall()


def audit_log(migrated: DatabaseUrls, shop: SeededTenant) -> list[tuple[Any, ...]]:
    """(seq, prev_hash, hash, intact, actor, role, action, outcome, purpose, object_id),
    read as ADMIN."""
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        return conn.execute(
            "SELECT seq, prev_hash, hash, app.audit_row_hash(a) = hash, actor_user_id,"
            " actor_role, action, outcome, purpose, object_id FROM app.audit_log a ORDER BY seq"
        ).fetchall()


def assert_chained(rows: list[tuple[Any, ...]]) -> None:
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0][1] == bytes(32)
    assert all(later[1] == earlier[2] for earlier, later in itertools.pairwise(rows))
    assert all(r[3] for r in rows)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ciphertext FROM app.pii_vault",
        "SELECT nonce FROM app.pii_vault",
        "SELECT * FROM app.pii_vault",
        "SELECT to_jsonb(v) FROM app.pii_vault v",
        "SELECT ro_id FROM app.pii_vault WHERE ciphertext IS NOT NULL",
    ],
)
def test_the_app_role_cannot_select_the_sealed_payload_even_as_admin(
    migrated: DatabaseUrls, shop: SeededTenant, query: str
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(query.encode())


def test_what_upsert_and_delete_need_stays_readable(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        rows = conn.execute(
            "SELECT ro_id, key_ref, created_at <= updated_at FROM app.pii_vault"
        ).fetchall()
    assert rows == [(shop.ro_id, "k1", True)]


@pytest.mark.parametrize("role", ["ADMIN", "PII_APPROVED"])
def test_the_audited_open_returns_the_ciphertext_with_its_audit_row_in_the_same_transaction(
    migrated: DatabaseUrls, shop: SeededTenant, role: str
) -> None:
    expected = sealed_as_owner(migrated, shop)
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, role, shop.admin_id)
        opened = open_vault(conn, shop.ro_id)
        # Read back before commit, in the same transaction, as ADMIN.
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        row = conn.execute(LAST_AUDIT_ROW).fetchone()
        conn.rollback()
    assert opened == [expected]
    assert row == (
        shop.admin_id,
        role,
        "pii.reveal",
        "repair_order",
        str(shop.ro_id),
        ["email", "phones"],
        "callback about the estimate",
        "allowed",
        "req-7",
        "10.1.2.3",
        "pytest",
    )
    # The audit row lives and dies with the read's transaction.
    assert [r[6] for r in audit_log(migrated, shop)] == ["pii.reveal"]


def test_an_ro_without_stored_pii_opens_as_allowed_and_empty(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        conn.execute("DELETE FROM app.pii_vault WHERE ro_id = %s", [shop.ro_id])
        opened = open_vault(conn, shop.ro_id)
        conn.commit()
    assert opened == [(None, None, None)]
    assert audit_log(migrated, shop)[-1][6:8] == ("pii.reveal", "allowed")


def test_a_tech_gets_nothing_and_the_denial_is_chained(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        opened = open_vault(conn, shop.ro_id)
        conn.commit()
    rows = audit_log(migrated, shop)
    assert opened == []
    assert [r[4:] for r in rows[1:]] == [
        (
            shop.tech_id,
            "TECH",
            "pii.reveal",
            "denied",
            "callback about the estimate",
            str(shop.ro_id),
        )
    ]
    assert_chained(rows)


@pytest.mark.parametrize("role", ["", "admin", "SUPERUSER"])
def test_no_valid_role_gets_nothing_and_is_recorded_as_denied(
    migrated: DatabaseUrls, shop: SeededTenant, role: str
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, role, shop.admin_id)
        opened = open_vault(conn, shop.ro_id)
        conn.commit()
    assert opened == []
    assert audit_log(migrated, shop)[-1][4:8] == (shop.admin_id, None, "pii.reveal", "denied")


def test_another_shops_ro_opens_nothing_and_is_recorded_in_the_callers_shop(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    other = seed_tenant(migrated.app_url, f"pii-other-{uuid.uuid4().hex[:8]}")
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        opened = open_vault(conn, other.ro_id)
        conn.commit()
    assert opened == []
    assert [r[7] for r in audit_log(migrated, shop)] == ["allowed", "denied"]
    assert len(audit_log(migrated, other)) == 1


@pytest.mark.parametrize(
    ("fields", "purpose"),
    [
        (["ssn"], "callback"),
        (["email", "ssn"], "callback"),
        ([], "callback"),
        (["email"], "   "),
        (["email"], "x" * 201),
    ],
)
def test_malformed_requests_raise_before_anything_is_read_or_written(
    migrated: DatabaseUrls, shop: SeededTenant, fields: list[str], purpose: str
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute(OPEN, [shop.ro_id, fields, purpose, None, None, None])
    assert len(audit_log(migrated, shop)) == 1


def test_without_a_shop_in_context_the_open_is_refused(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        conn.execute("SELECT set_config('app.role', 'ADMIN', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            open_vault(conn, shop.ro_id)


def test_the_database_knows_exactly_the_services_pii_fields(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.owner_url) as conn:
        names = conn.execute("SELECT app.pii_field_names()").fetchone()
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        opened = open_vault(conn, shop.ro_id, list(vault.PII_FIELDS))
    assert names == (list(vault.PII_FIELDS),)
    assert len(opened) == 1


def test_the_functions_are_definer_owned_pinned_and_not_public(migrated: DatabaseUrls) -> None:
    with psycopg.connect(migrated.owner_url) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner),"
            " has_function_privilege('ro_app', p.oid, 'EXECUTE'),"
            " EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))"
            "         AS a WHERE a.grantee = 0)"
            " FROM pg_proc p WHERE p.pronamespace = 'app'::regnamespace"
            " AND p.proname IN ('pii_vault_open', 'pii_vault_rotation_batch', 'audit_log_chain',"
            " 'audit_log_actor')"
            " ORDER BY p.proname"
        ).fetchall()
        owner = conn.execute("SELECT current_user").fetchone()
    assert owner is not None
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [
        (name, True, ["search_path=pg_catalog, pg_temp"], owner[0], False)
        for name in (
            "audit_log_actor",
            "audit_log_chain",
            "pii_vault_open",
            "pii_vault_rotation_batch",
        )
    ]
    assert [r[4] for r in rows] == [False, False, True, True]


def test_a_forged_actor_is_replaced_by_the_context(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        conn.execute(
            "INSERT INTO app.audit_log (tenant_id, actor_user_id, actor_role, action, outcome)"
            " VALUES (%s, %s, 'ADMIN', 'forged.actor', 'allowed')",
            [shop.tenant_id, shop.admin_id],
        )
        conn.commit()
        # No user in the context at all: the actor is unknown, not whatever was claimed.
        set_context(conn, shop.tenant_id, "PII_APPROVED")
        conn.execute(
            "INSERT INTO app.audit_log (tenant_id, actor_user_id, actor_role, action, outcome)"
            " VALUES (%s, %s, 'ADMIN', 'forged.nobody', 'allowed')",
            [shop.tenant_id, shop.admin_id],
        )
        conn.commit()
    rows = audit_log(migrated, shop)
    assert [r[4:7] for r in rows[1:]] == [
        (shop.tech_id, "TECH", "forged.actor"),
        (None, "PII_APPROVED", "forged.nobody"),
    ]
    assert_chained(rows)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT pass_hash FROM app.users",
        "SELECT * FROM app.users",
        "SELECT to_jsonb(u) FROM app.users u",
        "SELECT email FROM app.users WHERE pass_hash LIKE '$%%'",
        "UPDATE app.users SET is_active = true RETURNING pass_hash",
    ],
)
def test_password_hashes_are_not_readable_by_the_app_role(
    migrated: DatabaseUrls, shop: SeededTenant, query: str
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(query.encode())


def test_every_other_user_column_is_readable_and_login_still_sees_the_hash(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        users = conn.execute("SELECT email, role::text FROM app.users ORDER BY email").fetchall()
        others = conn.execute(
            "SELECT count(*) FROM app.users WHERE user_id IS NOT NULL AND tenant_id IS NOT NULL"
            " AND is_active AND created_at <= updated_at"
        ).fetchone()
        conn.rollback()
        logins = conn.execute(
            "SELECT pass_hash FROM app.directory_logins(%s)", [users[1][0]]
        ).fetchall()
    assert [(email.split("@")[0], role) for email, role in users] == [
        ("admin", "ADMIN"),
        ("tech", "TECH"),
    ]
    assert others == (2,)
    assert logins == [("x",)]


@pytest.mark.parametrize(("role", "visible"), [("TECH", 0), ("PII_APPROVED", 0), ("ADMIN", 1)])
def test_original_documents_are_read_by_admin_only(
    migrated: DatabaseUrls, shop: SeededTenant, role: str, visible: int
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, role, shop.tech_id)
        seen = conn.execute("SELECT count(*) FROM app.documents").fetchone()
    assert seen == (visible,)


@pytest.mark.parametrize("role", ["TECH", "PII_APPROVED"])
def test_only_an_admin_writes_documents(
    migrated: DatabaseUrls, shop: SeededTenant, role: str
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, role, shop.tech_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO app.documents (tenant_id, filename, mime_type, sha256)"
                " VALUES (%s, 'x.pdf', 'application/pdf', %s)",
                [shop.tenant_id, uuid.uuid4().bytes * 2],
            )
        conn.rollback()
        # Without a WHERE clause only the DELETE policy applies: it must hold on its own.
        deleted = conn.execute("DELETE FROM app.documents").rowcount
        conn.rollback()
    assert deleted == 0


def add_message(
    conn: psycopg.Connection[Any], shop: SeededTenant, conversation: Any, user: uuid.UUID
) -> None:
    conn.execute(
        "INSERT INTO app.assistant_messages (tenant_id, conversation_id, user_id, role, content)"
        " VALUES (%s, %s, %s, 'user', 'hello')",
        [shop.tenant_id, conversation, user],
    )


def test_messages_go_only_into_a_conversation_of_their_writer(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        admins = conn.execute("SELECT conversation_id FROM app.assistant_conversations").fetchone()
        assert admins is not None
        conn.commit()
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            add_message(conn, shop, admins[0], shop.tech_id)
        conn.rollback()
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        own = conn.execute(
            "INSERT INTO app.assistant_conversations (tenant_id, user_id, title)"
            " VALUES (%s, %s, 'mine') RETURNING conversation_id",
            [shop.tenant_id, shop.tech_id],
        ).fetchone()
        assert own is not None
        add_message(conn, shop, own[0], shop.tech_id)
        conn.commit()
        # An ADMIN may write into the shop's conversations, in its own name only.
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        add_message(conn, shop, own[0], shop.admin_id)
        conn.commit()
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            add_message(conn, shop, own[0], shop.tech_id)
        conn.rollback()
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        stored = conn.execute(
            "SELECT conversation_id, user_id FROM app.assistant_messages ORDER BY created_at"
        ).fetchall()
    assert stored == [
        (admins[0], shop.admin_id),  # the seeded question and its answer
        (admins[0], shop.admin_id),
        (own[0], shop.tech_id),
        (own[0], shop.admin_id),
    ]


def test_rotation_batches_are_admin_only_locked_and_audited(
    migrated: DatabaseUrls, shop: SeededTenant
) -> None:
    expected = sealed_as_owner(migrated, shop)
    with psycopg.connect(migrated.app_url) as conn:
        set_context(conn, shop.tenant_id, "TECH", shop.tech_id)
        as_tech = conn.execute(ROTATION_BATCH, ["k2", None, 10, False]).fetchall()
        conn.commit()
        set_context(conn, shop.tenant_id, "ADMIN", shop.admin_id)
        old = conn.execute(ROTATION_BATCH, ["k2", None, 10, False]).fetchall()
        current = conn.execute(ROTATION_BATCH, ["k1", None, 10, False]).fetchall()
        verify = conn.execute(ROTATION_BATCH, ["k1", None, 10, True]).fetchall()
        past_it = conn.execute(ROTATION_BATCH, ["k2", shop.ro_id, 10, False]).fetchall()
        # The batch's rows stay locked by this transaction until it ends.
        with psycopg.connect(migrated.app_url) as other:
            set_context(other, shop.tenant_id, "ADMIN", shop.admin_id)
            skipped = other.execute(ROTATION_BATCH, ["k2", None, 10, False]).fetchall()
            other.rollback()
        conn.commit()
    assert as_tech == []
    assert old == verify == [(shop.ro_id, *expected)]
    assert current == past_it == skipped == []
    rows = audit_log(migrated, shop)
    batch = f"1 rows, ro_id {shop.ro_id} to {shop.ro_id}"
    assert [r[5:] for r in rows[1:]] == [
        ("TECH", "pii.rotate", "denied", "re-encrypt to key k2", None),
        ("ADMIN", "pii.rotate", "allowed", "re-encrypt to key k2", batch),
        ("ADMIN", "pii.rotate", "allowed", "verify rotation to key k1", batch),
    ]
    assert_chained(rows)
