"""One row in every tenant table for a shop, written as the application role."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class SeededTenant:
    tenant_id: uuid.UUID
    admin_id: uuid.UUID
    tech_id: uuid.UUID
    ro_id: uuid.UUID


def set_context(
    conn: psycopg.Connection[Any], tenant: object, role: str, user: object | None = None
) -> None:
    conn.execute(
        "SELECT set_config('app.tenant_id', %s, true), set_config('app.role', %s, true),"
        " set_config('app.user_id', %s, true)",
        [str(tenant), role, "" if user is None else str(user)],
    )


def seed_tenant(app_url: str, slug: str) -> SeededTenant:
    tenant_id, admin_id, tech_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    doc_id, ro_id, line_id, conv_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(app_url) as conn:
        register_vector(conn)
        set_context(conn, tenant_id, "ADMIN", admin_id)
        conn.execute(
            "INSERT INTO app.tenants (tenant_id, slug, name) VALUES (%s, %s, %s)",
            [tenant_id, slug, f"Shop {slug}"],
        )
        for user_id, role in ((admin_id, "ADMIN"), (tech_id, "TECH")):
            conn.execute(
                "INSERT INTO app.users (user_id, tenant_id, email, pass_hash, role)"
                " VALUES (%s, %s, %s, 'x', %s)",
                [user_id, tenant_id, f"{role.lower()}@{slug}.example", role],
            )
        conn.execute(
            "INSERT INTO app.documents (doc_id, tenant_id, filename, mime_type, sha256,"
            " created_by) VALUES (%s, %s, 'ro.json', 'application/json', %s, %s)",
            [doc_id, tenant_id, os.urandom(32), admin_id],
        )
        conn.execute(
            "INSERT INTO app.repair_orders (ro_id, tenant_id, doc_id, ro_number, vehicle_year,"
            " vehicle_make, vehicle_model, total_due, vin_bidx)"
            " VALUES (%s, %s, %s, '48211', 2018, 'Toyota', 'Camry', 491.05, %s)",
            [ro_id, tenant_id, doc_id, os.urandom(32)],
        )
        conn.execute(
            "INSERT INTO app.ro_lines (line_id, tenant_id, ro_id, line_letter, status, complaint)"
            " VALUES (%s, %s, %s, 'A', 'completed', 'Brake pedal pulsates')",
            [line_id, tenant_id, ro_id],
        )
        conn.execute(
            "INSERT INTO app.ro_labor_lines (tenant_id, ro_id, line_id, operation, hours, amount)"
            " VALUES (%s, %s, %s, 'BRK-FR-PR', 1.8, 216.00)",
            [tenant_id, ro_id, line_id],
        )
        conn.execute(
            "INSERT INTO app.ro_parts_lines (tenant_id, ro_id, line_id, part_number, quantity,"
            " unit_price, line_total) VALUES (%s, %s, %s, '04465-06200', 1, 89.50, 89.50)",
            [tenant_id, ro_id, line_id],
        )
        conn.execute(
            "INSERT INTO app.pii_vault (tenant_id, ro_id, key_ref, nonce, ciphertext)"
            " VALUES (%s, %s, 'k1', %s, %s)",
            [tenant_id, ro_id, os.urandom(12), os.urandom(48)],
        )
        conn.execute(
            "INSERT INTO app.customer_terms (tenant_id, ro_id, kind, term)"
            " VALUES (%s, %s, 'name', %s)",
            [tenant_id, ro_id, os.urandom(32)],
        )
        conn.execute(
            "INSERT INTO app.ro_chunks (tenant_id, ro_id, line_id, kind, content, embedding,"
            " embedding_model, token_count) VALUES (%s, %s, %s, 'line', %s, %s, 'test', 5)",
            [tenant_id, ro_id, line_id, "Line A: replaced front pads P0420", Vector([0.1] * 384)],
        )
        conn.execute(
            "INSERT INTO app.assistant_conversations (conversation_id, tenant_id, user_id, title)"
            " VALUES (%s, %s, %s, 'Brakes')",
            [conv_id, tenant_id, admin_id],
        )
        conn.execute(
            "INSERT INTO app.assistant_messages (tenant_id, conversation_id, user_id, role,"
            " content, citations) VALUES (%s, %s, %s, 'user', 'when were pads done?', %s)",
            [tenant_id, conv_id, admin_id, Jsonb([])],
        )
        answer = conn.execute(
            "INSERT INTO app.assistant_messages (tenant_id, conversation_id, user_id, role,"
            " content, citations) VALUES (%s, %s, %s, 'assistant', 'RO 1001 line A', %s)"
            " RETURNING message_id",
            [tenant_id, conv_id, admin_id, Jsonb([])],
        ).fetchone()
        assert answer is not None
        conn.execute(
            "INSERT INTO app.answer_feedback (tenant_id, message_id, user_id, rating, reason)"
            " VALUES (%s, %s, %s, 'down', 'wrong RO')",
            [tenant_id, answer[0], admin_id],
        )
        conn.execute(
            "INSERT INTO app.audit_log (tenant_id, actor_user_id, actor_role, action,"
            " object_type, object_id, pii_fields, purpose, outcome)"
            " VALUES (%s, %s, 'ADMIN', 'pii.reveal', 'repair_order', %s, '{email}',"
            " 'test', 'allowed')",
            [tenant_id, admin_id, str(ro_id)],
        )
    return SeededTenant(tenant_id=tenant_id, admin_id=admin_id, tech_id=tech_id, ro_id=ro_id)
