"""SQLAlchemy Core descriptions of the tables the migrations create.

The migrations are the schema; these exist so queries are composed with bound parameters
instead of strings. `tests/db/test_tables.py` fails when the two drift apart.
"""

from __future__ import annotations

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    FetchedValue,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ENUM, INET, JSONB, TSVECTOR

metadata = MetaData(schema="app")
ROLES = ("TECH", "ADMIN", "PII_APPROVED")


def _tenant() -> Column[object]:
    return Column("tenant_id", Uuid, nullable=False)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False)


tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("slug", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("is_active", Boolean, nullable=False),
    _created(),
)

users = Table(
    "users",
    metadata,
    Column("user_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("email", Text, nullable=False),
    Column("pass_hash", Text, nullable=False),
    Column("role", ENUM(*ROLES, name="user_role", schema="app", create_type=False), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("doc_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("filename", Text, nullable=False),
    Column("mime_type", Text, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
    Column("storage_path", Text),
    Column("status", Text, nullable=False),
    Column("created_by", Uuid),
    _created(),
    Column("content_key_ref", Text),
    Column("content_nonce", LargeBinary),
    Column("content_ciphertext", LargeBinary),
    Column("size_bytes", BigInteger),
)

_money = Numeric(10, 2)

repair_orders = Table(
    "repair_orders",
    metadata,
    Column("ro_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("doc_id", Uuid, nullable=False),
    Column("ro_number", Text, nullable=False),
    Column("ro_open_date", Date),
    Column("ro_close_date", Date),
    Column("ro_status", Text),
    Column("advisor_name", Text),
    Column("advisor_tag", Text),
    Column("technician_name", Text),
    Column("technician_code", Text),
    Column("vehicle_year", Integer),
    Column("vehicle_make", Text),
    Column("vehicle_model", Text),
    Column("vehicle_color", Text),
    Column("mileage_in", Integer),
    Column("mileage_out", Integer),
    Column("in_service_date", Date),
    Column("delivery_date", Date),
    Column("labor_total", _money),
    Column("parts_total", _money),
    Column("sublet_total", _money),
    Column("shop_supplies", _money),
    Column("hazardous_total", _money),
    Column("tax_total", _money),
    Column("discount_total", _money),
    Column("total_due", _money),
    Column("vin_bidx", LargeBinary),
    Column("plate_bidx", LargeBinary),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("fingerprint", LargeBinary),
)

ro_lines = Table(
    "ro_lines",
    metadata,
    Column("line_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("ro_id", Uuid, nullable=False),
    Column("line_letter", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("complaint", Text),
    Column("cause", Text),
    Column("correction", Text),
    _created(),
)

ro_labor_lines = Table(
    "ro_labor_lines",
    metadata,
    Column("labor_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("ro_id", Uuid, nullable=False),
    Column("line_id", Uuid, nullable=False),
    Column("operation", Text),
    Column("description", Text),
    Column("technician_name", Text),
    Column("technician_code", Text),
    Column("hours", Numeric(6, 2)),
    Column("amount", _money),
    Column("pay_type", Text),
    _created(),
)

ro_parts_lines = Table(
    "ro_parts_lines",
    metadata,
    Column("part_line_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("ro_id", Uuid, nullable=False),
    Column("line_id", Uuid, nullable=False),
    Column("part_number", Text),
    Column("description", Text),
    Column("quantity", _money),
    Column("unit_price", _money),
    Column("line_total", _money),
    _created(),
)

pii_vault = Table(
    "pii_vault",
    metadata,
    Column("tenant_id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("ro_id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("key_ref", Text, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

customer_terms = Table(
    "customer_terms",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("ro_id", Uuid, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("term", LargeBinary, primary_key=True),
)

ro_chunks = Table(
    "ro_chunks",
    metadata,
    Column("chunk_id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("tenant_id", Uuid, primary_key=True),
    Column("ro_id", Uuid, nullable=False),
    Column("line_id", Uuid),
    Column("kind", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("fts_english", TSVECTOR),
    Column("fts_simple", TSVECTOR),
    Column("embedding", Vector(384), nullable=False),
    Column("embedding_model", Text, nullable=False),
    Column("token_count", Integer, nullable=False),
    _created(),
)

ro_chunk_terms = Table(
    "ro_chunk_terms",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("term", Text, primary_key=True),
    Column("chunk_id", Uuid, primary_key=True),
    Column("tf", SmallInteger, nullable=False),
    Column("dl", Integer, nullable=False),
)

assistant_conversations = Table(
    "assistant_conversations",
    metadata,
    Column("conversation_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("user_id", Uuid, nullable=False),
    Column("title", Text),
    Column("status", Text, nullable=False),
    Column("last_message_at", DateTime(timezone=True)),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

assistant_messages = Table(
    "assistant_messages",
    metadata,
    Column("message_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("conversation_id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("role", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("error", Text),
    Column("citations", JSONB, nullable=False),
    Column("model", Text),
    Column("response_id", Text),
    Column("prompt_name", Text),
    Column("prompt_version", Text),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("latency_ms", Integer),
    Column("retrieval_trace", JSONB),
    Column("metadata", JSONB, nullable=False),
    _created(),
)

answer_feedback = Table(
    "answer_feedback",
    metadata,
    _tenant(),
    Column("message_id", Uuid, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("rating", Text, nullable=False),
    Column("reason", Text),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", Uuid, primary_key=True, server_default=FetchedValue()),
    _tenant(),
    Column("seq", BigInteger, nullable=False),
    Column("actor_user_id", Uuid),
    Column("actor_role", Text),
    Column("action", Text, nullable=False),
    Column("object_type", Text),
    Column("object_id", Text),
    Column("pii_fields", ARRAY(Text), nullable=False),
    Column("purpose", Text),
    Column("outcome", Text, nullable=False),
    Column("request_id", Text),
    Column("ip", INET),
    Column("user_agent", Text),
    _created(),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

audit_chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("tenant_id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

# Shared rate-limit and login-throttle counters (migration 0019); the service reaches them
# only through app.rate_hit and app.rate_clear (assistant/limits).
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("bucket", Text, primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("resets_at", DateTime(timezone=True), nullable=False),
)
