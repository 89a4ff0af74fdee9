"""Reading what the API tests need to check, straight from the database as the app role:
vault values (to prove they never leak; read as the owner, since the app role can only open
them through the audited function, which would add rows to the log under test), audit rows,
and an RO's identifiers."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from assistant.pii import keyring, vault
from assistant.pii.sealing import Sealed
from tests.conftest import DemoService
from tests.db.seed import set_context


def tenant_id(demo: DemoService, slug: str) -> UUID:
    with psycopg.connect(demo.db.app_url) as conn:
        row = conn.execute("SELECT tenant_id FROM app.directory_tenant(%s)", [slug]).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def payload(demo: DemoService, slug: str, ro_id: UUID | str) -> dict[str, Any]:
    ro_id = UUID(str(ro_id))
    ring = keyring.load(None, demo.work / "data" / "keyring.json")
    tenant = tenant_id(demo, slug)
    with psycopg.connect(demo.db.owner_url) as conn:
        set_context(conn, tenant, "ADMIN")
        row = conn.execute(
            "SELECT key_ref, nonce, ciphertext FROM app.pii_vault WHERE ro_id = %s", [ro_id]
        ).fetchone()
    assert row is not None
    return vault.open_payload(ring, tenant, ro_id, Sealed(*row))


def rows_as_admin(
    demo: DemoService, slug: str, query: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Rows read in the shop's ADMIN context, as dicts by column name."""
    with psycopg.connect(demo.db.app_url, row_factory=dict_row) as conn:
        set_context(conn, tenant_id(demo, slug), "ADMIN")
        return conn.execute(query.encode(), params).fetchall()


def ro(demo: DemoService, slug: str, where: str = "true") -> dict[str, Any]:
    """The first RO (by number) matching `where`, as id, number and vehicle."""
    rows = rows_as_admin(
        demo,
        slug,
        "SELECT ro_id, ro_number, vehicle_make AS make, vehicle_model AS model"
        f" FROM app.repair_orders r WHERE {where} ORDER BY ro_number LIMIT 1",
    )
    assert rows
    return rows[0]


def audit_rows(demo: DemoService, slug: str, request_id: str) -> list[dict[str, Any]]:
    return rows_as_admin(
        demo,
        slug,
        "SELECT action, outcome, object_id, pii_fields, purpose, actor_role"
        " FROM app.audit_log WHERE request_id = %s ORDER BY seq",
        [request_id],
    )


def stored_messages(demo: DemoService, slug: str, conversation_id: str) -> list[dict[str, Any]]:
    return rows_as_admin(
        demo,
        slug,
        "SELECT role, status, content, error FROM app.assistant_messages"
        " WHERE conversation_id = %s ORDER BY created_at, role DESC",
        [conversation_id],
    )


def sse_events(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        kind, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((kind, json.loads("\n".join(data))))
    return events


def leaked(values: list[str], text: str) -> list[str]:
    lowered = text.lower()
    return [v for v in values if v in lowered]
