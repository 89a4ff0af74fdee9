"""Signed anchors catch what the chain alone cannot: an owner who rewrote rows, recomputed
every hash and moved the head. Rows are written as the application role; only the
tampering steps connect as the owner."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from sqlalchemy import text

from assistant.audit import anchor as anchors
from assistant.audit.anchor import Anchor, AnchorRefused
from assistant.audit.service import ChainReport, row_hash, verify
from assistant.db.session import Database, DbContext, Role
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from assistant.tenants.service import create_tenant
from tests.audit.test_verify import check, tamper, write
from tests.conftest import DatabaseUrls

pytestmark = pytest.mark.anyio

REWRITTEN = "routine check"


def rewrite_history(owner_url: str, tenant_id: UUID, seq: int, purpose: str) -> None:
    """The attack the chain alone misses: as the owner, with the safeguards off for one
    transaction, change a row, recompute every hash from it on and move the head along."""
    with psycopg.connect(owner_url) as conn:
        conn.execute("ALTER TABLE app.audit_log DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE app.audit_log NO FORCE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE app.audit_chain_heads NO FORCE ROW LEVEL SECURITY")
        conn.execute(
            "UPDATE app.audit_log SET purpose = %s WHERE tenant_id = %s AND seq = %s",
            [purpose, tenant_id, seq],
        )
        found = conn.execute(
            "SELECT max(seq) FROM app.audit_log WHERE tenant_id = %s", [tenant_id]
        ).fetchone()
        assert found is not None
        for n in range(seq, int(found[0]) + 1):
            conn.execute(
                "UPDATE app.audit_log a SET prev_hash = p.hash FROM app.audit_log p"
                " WHERE a.tenant_id = %(t)s AND a.seq = %(n)s AND a.seq > %(first)s"
                " AND p.tenant_id = %(t)s AND p.seq = %(n)s - 1",
                {"t": tenant_id, "n": n, "first": seq},
            )
            conn.execute(
                "UPDATE app.audit_log a SET hash = app.audit_row_hash(a)"
                " WHERE tenant_id = %s AND seq = %s",
                [tenant_id, n],
            )
        conn.execute(
            "UPDATE app.audit_chain_heads h SET hash = a.hash FROM app.audit_log a"
            " WHERE h.tenant_id = %s AND a.tenant_id = h.tenant_id AND a.seq = h.seq",
            [tenant_id],
        )
        conn.execute("ALTER TABLE app.audit_log ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE app.audit_log FORCE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE app.audit_chain_heads FORCE ROW LEVEL SECURITY")


def cut_history(owner_url: str, tenant_id: UUID, keep: int) -> None:
    """As the owner: remove the newest rows and set the head back, so the chain stays whole."""
    with psycopg.connect(owner_url) as conn:
        conn.execute("ALTER TABLE app.audit_log DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE app.audit_log NO FORCE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE app.audit_chain_heads NO FORCE ROW LEVEL SECURITY")
        conn.execute(
            "DELETE FROM app.audit_log WHERE tenant_id = %s AND seq > %s", [tenant_id, keep]
        )
        conn.execute(
            "UPDATE app.audit_chain_heads h SET seq = a.seq, hash = a.hash FROM app.audit_log a"
            " WHERE h.tenant_id = %(t)s AND a.tenant_id = %(t)s AND a.seq = %(keep)s",
            {"t": tenant_id, "keep": keep},
        )
        conn.execute("ALTER TABLE app.audit_log ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE app.audit_log FORCE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE app.audit_chain_heads FORCE ROW LEVEL SECURITY")


def admin(shop: Tenant) -> DbContext:
    return DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)


async def take(db: Database, ring: KeyRing, shop: Tenant) -> Anchor:
    async with db.transaction(admin(shop)) as s:
        report, signed = await anchors.take(s, ring, shop.tenant_id, shop.slug)
    assert report.ok, report.problem
    assert signed is not None
    return signed


async def against(db: Database, ring: KeyRing, shop: Tenant, anchor: Anchor) -> ChainReport:
    async with db.transaction(admin(shop)) as s:
        return await anchors.verify_against(s, ring, shop.tenant_id, anchor)


async def purposes(db: Database, shop: Tenant) -> list[str]:
    async with db.transaction(admin(shop)) as s:
        result = await s.execute(text("SELECT purpose FROM app.audit_log ORDER BY seq"))
        return [str(p) for (p,) in result]


async def test_an_anchor_signs_the_verified_head(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    await write(app_db, shop, 3, Role.ADMIN)
    signed = await take(app_db, ring, shop)
    async with app_db.transaction(admin(shop)) as s:
        third = await row_hash(s, 3)
    assert third is not None
    assert (signed.format, signed.tenant_id, signed.tenant) == (1, shop.tenant_id, shop.slug)
    assert (signed.seq, signed.hash, signed.key_ref) == (3, third.hex(), ring.active)
    created = datetime.fromisoformat(signed.created_at)
    assert created.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    assert anchors.load(signed.to_json()) == signed
    report = await against(app_db, ring, shop, signed)
    assert (report.ok, report.rows, report.head_seq) == (True, 3, 3)


async def test_catches_an_owner_who_rewrote_rows_and_the_head(
    app_db: Database, shop: Tenant, ring: KeyRing, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 5, Role.ADMIN)
    signed = await take(app_db, ring, shop)
    rewrite_history(migrated.owner_url, shop.tenant_id, 2, REWRITTEN)
    assert (await purposes(app_db, shop))[1] == REWRITTEN
    # Every hash was recomputed and the head moved: the chain alone sees nothing wrong.
    assert await check(app_db, shop) == (True, None, None)
    report = await against(app_db, ring, shop, signed)
    assert not report.ok
    assert report.problem == (
        "row 5 does not match the anchor: the log up to row 5 was rewritten after the anchor"
        " was taken"
    )


async def test_rows_removed_behind_the_anchor_are_found(
    app_db: Database, shop: Tenant, ring: KeyRing, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 5, Role.ADMIN)
    signed = await take(app_db, ring, shop)
    cut_history(migrated.owner_url, shop.tenant_id, 3)
    assert await check(app_db, shop) == (True, None, None)
    report = await against(app_db, ring, shop, signed)
    assert (report.ok, report.first_broken_seq) == (False, 4)
    assert report.problem == "the chain ends at row 3 but the anchor is at row 5: rows were removed"


async def test_a_chain_that_grew_after_the_anchor_still_matches_it(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    await write(app_db, shop, 3, Role.ADMIN)
    signed = await take(app_db, ring, shop)
    await write(app_db, shop, 4, Role.TECH)
    report = await against(app_db, ring, shop, signed)
    assert (report.ok, report.rows, report.head_seq) == (True, 7, 7)


async def test_an_anchor_of_an_empty_chain_holds(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    signed = await take(app_db, ring, shop)
    assert (signed.seq, signed.hash) == (0, "00" * 32)
    await write(app_db, shop, 2, Role.ADMIN)
    assert (await against(app_db, ring, shop, signed)).ok


async def test_a_changed_row_after_the_anchor_is_still_named(
    app_db: Database, shop: Tenant, ring: KeyRing, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 2, Role.ADMIN)
    signed = await take(app_db, ring, shop)
    await write(app_db, shop, 2, Role.ADMIN)
    tamper(
        migrated.owner_url,
        shop,
        ["UPDATE app.audit_log SET outcome = 'allowed' WHERE tenant_id = :tenant AND seq = 4"],
    )
    report = await against(app_db, ring, shop, signed)
    assert (report.ok, report.first_broken_seq) == (False, 4)
    assert report.problem == "row 4 was changed after it was written"


async def test_no_anchor_is_taken_of_a_broken_chain(
    app_db: Database, shop: Tenant, ring: KeyRing, migrated: DatabaseUrls
) -> None:
    await write(app_db, shop, 3, Role.ADMIN)
    tamper(
        migrated.owner_url,
        shop,
        ["UPDATE app.audit_log SET purpose = 'x' WHERE tenant_id = :tenant AND seq = 2"],
    )
    async with app_db.transaction(admin(shop)) as s:
        report, signed = await anchors.take(s, ring, shop.tenant_id, shop.slug)
    assert (report.ok, report.first_broken_seq, signed) == (False, 2, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 2),
        ("hash", "ab" * 32),
        ("tenant", "other-shop"),
        ("created_at", "2020-01-01T00:00:00.000000+00:00"),
        ("mac", "00" * 32),
    ],
)
async def test_an_edited_anchor_fails_on_its_mac(
    app_db: Database, shop: Tenant, ring: KeyRing, field: str, value: Any
) -> None:
    await write(app_db, shop, 3, Role.ADMIN)
    fields = json.loads((await take(app_db, ring, shop)).to_json())
    assert fields[field] != value
    edited = anchors.load(json.dumps(fields | {field: value}))
    with pytest.raises(AnchorRefused, match=r"^the anchor's MAC does not match"):
        await against(app_db, ring, shop, edited)


async def test_an_anchor_moved_to_another_shop_fails_on_its_mac(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    other = await create_tenant(app_db, f"{shop.slug}-b", "Other Shop")
    await write(app_db, shop, 2, Role.ADMIN)
    await write(app_db, other, 2, Role.ADMIN)
    moved = dataclasses.replace(
        await take(app_db, ring, shop), tenant_id=other.tenant_id, tenant=other.slug
    )
    with pytest.raises(AnchorRefused, match="MAC does not match"):
        await against(app_db, ring, other, moved)


async def test_another_shops_anchor_is_refused(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    other = await create_tenant(app_db, f"{shop.slug}-b", "Other Shop")
    await write(app_db, shop, 2, Role.ADMIN)
    await write(app_db, other, 2, Role.ADMIN)
    theirs = await take(app_db, ring, other)
    with pytest.raises(AnchorRefused, match=r"^the anchor is another shop's$"):
        await against(app_db, ring, shop, theirs)


async def test_old_anchors_check_after_a_rotation_while_their_key_is_in_the_ring(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    await write(app_db, shop, 2, Role.ADMIN)
    old = await take(app_db, ring, shop)
    rotated = ring.with_new_active_key()
    new = await take(app_db, rotated, shop)
    assert (old.key_ref, new.key_ref) == (ring.active, rotated.active)
    assert old.key_ref != new.key_ref
    assert (await against(app_db, rotated, shop, old)).ok
    without_old = KeyRing(
        active=rotated.active,
        keys={rotated.active: rotated.key(rotated.active)},
        blind_index_key=rotated.blind_index_key,
    )
    assert (await against(app_db, without_old, shop, new)).ok
    with pytest.raises(AnchorRefused, match=f"signed with key '{old.key_ref}', which is not in"):
        await against(app_db, without_old, shop, old)


async def test_an_anchor_from_another_key_ring_is_refused(
    app_db: Database, shop: Tenant, ring: KeyRing
) -> None:
    await write(app_db, shop, 2, Role.ADMIN)
    stranger = KeyRing.generate()
    foreign = await take(app_db, stranger, shop)
    with pytest.raises(AnchorRefused, match="which is not in the key ring"):
        await against(app_db, ring, shop, foreign)
    # The same name on different key material is no better.
    impostor = KeyRing(
        active=ring.active,
        keys={ring.active: stranger.key(stranger.active)},
        blind_index_key=ring.blind_index_key,
    )
    forged = await take(app_db, impostor, shop)
    with pytest.raises(AnchorRefused, match="MAC does not match"):
        await against(app_db, ring, shop, forged)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "the file is not JSON"),
        ("[]", "expected exactly format, tenant_id"),
        ('{"format": 1}', "expected exactly"),
    ],
)
def test_a_file_that_is_no_anchor_is_refused(raw: str, problem: str) -> None:
    with pytest.raises(AnchorRefused, match=problem):
        anchors.load(raw)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("seq", -1, "seq is not a row number"),
        ("seq", True, "seq is not a row number"),
        ("seq", "3", "seq is not a row number"),
        ("format", 2, "not an audit anchor of format 1"),
        ("hash", "AB" * 32, "hash is not 64 lowercase hex digits"),
        ("mac", "ab" * 31, "mac is not 64 lowercase hex digits"),
        ("tenant_id", "shop", "tenant_id is not a UUID"),
        ("key_ref", "../k", "key_ref is not a key reference"),
        ("extra", 1, "expected exactly"),
    ],
)
def test_a_malformed_anchor_is_refused(
    ring: KeyRing, field: str, value: object, problem: str
) -> None:
    good = anchors.sign(ring, UUID(int=1), "shop", 3, bytes(32))
    assert anchors.load(good.to_json()) == good
    with pytest.raises(AnchorRefused, match=problem):
        anchors.load(json.dumps(good.fields() | {field: value}))


async def test_verify_while_a_busy_shop_writes_never_reports_a_false_break(
    app_db: Database, shop: Tenant
) -> None:
    """Rows and head are read in one snapshot; read one after the other, a row committed
    in between looked like a removed one."""
    await write(app_db, shop, 1, Role.TECH)
    problems: list[str | None] = []
    writing = True

    async def verifier() -> None:
        while writing:
            async with app_db.transaction(admin(shop)) as s:
                problems.append((await verify(s)).problem)

    async def writers() -> None:
        nonlocal writing
        await asyncio.gather(*(write(app_db, shop, 20) for _ in range(4)))
        writing = False

    await asyncio.gather(verifier(), verifier(), writers())
    assert len(problems) > 10
    assert set(problems) == {None}


# The command line, run as a user runs it.


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RO_ASSISTANT_")}
    base.pop("DATABASE_URL", None)
    base.pop("APP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_cli_anchors_and_catches_a_rewrite(
    app_db: Database, shop: Tenant, ring: KeyRing, migrated: DatabaseUrls, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": migrated.owner_url,
        "APP_DATABASE_URL": migrated.app_url,
        "RO_ASSISTANT_KEYRING": ring.to_json(),
        "RO_ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }
    slug = shop.slug
    await write(app_db, shop, 4, Role.ADMIN)
    file = tmp_path / "anchor.json"

    made = await asyncio.to_thread(
        cli, env, "audit", "anchor", "--tenant", slug, "--output", str(file)
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout == f"wrote {file}: {slug} at row 4\n"
    printed = await asyncio.to_thread(cli, env, "audit", "anchor", "--tenant", slug)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["seq"] == 4
    assert json.loads(file.read_text())["hash"] == json.loads(printed.stdout)["hash"]

    await write(app_db, shop, 2, Role.TECH)
    good = await asyncio.to_thread(
        cli, env, "audit", "verify", "--tenant", slug, "--anchor", str(file)
    )
    assert (good.returncode, good.stdout) == (
        0,
        f"{slug}: 6 rows, chain intact, matches anchor at row 4\n",
    ), good.stderr

    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(json.loads(file.read_text()) | {"seq": 3}))
    refused = await asyncio.to_thread(
        cli, env, "audit", "verify", "--tenant", slug, "--anchor", str(edited)
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"Error: {slug}: anchor refused: the anchor's MAC does not match: the anchor was altered"
    ]

    needs_shop = await asyncio.to_thread(cli, env, "audit", "verify", "--anchor", str(file))
    assert needs_shop.returncode == 2
    assert "--anchor needs --tenant" in needs_shop.stderr

    rewrite_history(migrated.owner_url, shop.tenant_id, 3, REWRITTEN)
    plain = await asyncio.to_thread(cli, env, "audit", "verify", "--tenant", slug)
    assert (plain.returncode, plain.stdout) == (0, f"{slug}: 6 rows, chain intact\n")
    caught = await asyncio.to_thread(
        cli, env, "audit", "verify", "--tenant", slug, "--anchor", str(file)
    )
    assert caught.returncode == 1
    assert caught.stdout.strip().splitlines() == [
        f"{slug}: 6 rows, BROKEN: row 4 does not match the anchor: the log up to row 4 was"
        " rewritten after the anchor was taken"
    ]
    assert "Traceback" not in caught.stderr


async def test_the_cli_takes_no_anchor_of_a_broken_chain(
    app_db: Database, shop: Tenant, ring: KeyRing, migrated: DatabaseUrls, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": migrated.owner_url,
        "APP_DATABASE_URL": migrated.app_url,
        "RO_ASSISTANT_KEYRING": ring.to_json(),
        "RO_ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }
    await write(app_db, shop, 3, Role.ADMIN)
    tamper(
        migrated.owner_url,
        shop,
        ["UPDATE app.audit_log SET purpose = 'x' WHERE tenant_id = :tenant AND seq = 2"],
    )
    result = await asyncio.to_thread(cli, env, "audit", "anchor", "--tenant", shop.slug)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip().splitlines() == [
        f"Error: {shop.slug}: 3 rows, BROKEN: row 2 was changed after it was written;"
        " no anchor taken"
    ]
