"""Each big shop's own HNSW graph: a partial index on the hash partition that holds it.

Chunks live in 64 hash partitions that shops share (migration 0021). A shop under
`EXACT_BELOW_ROWS` chunks is searched exactly and needs no graph; past it, this job gives
the shop an index of its own, `WHERE tenant_id = <shop>`, so its searches read its own
graph and nothing of its neighbours'. The job runs as the owner (the application role can
cause no DDL), builds CONCURRENTLY (no search or write of any shop waits), rebuilds an
index whose build failed, and drops the graphs of shops that are gone. Until a shop's
graph exists, its searches are exact: correct, only slower.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from retrieval.embedders import DIMENSIONS
from retrieval.search import EXACT_BELOW_ROWS

PREFIX = "ro_chunks_hnsw_"
# As migration 0017 built every partition's graph, so recall figures carry over.
_BUILD = (
    "CREATE INDEX CONCURRENTLY {name} ON {partition}"
    f" USING hnsw ((embedding::halfvec({DIMENSIONS})) halfvec_cosine_ops)"
    " WITH (m = 16, ef_construction = 128) WHERE tenant_id = {tenant}"
)

Connection = psycopg.Connection[tuple[Any, ...]]


def index_name(tenant_id: UUID) -> str:
    return PREFIX + tenant_id.hex


@dataclass(slots=True)
class Pass:
    built: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def existing(conn: Connection) -> dict[str, bool]:
    """Each shop graph by name, and whether it is valid (a failed CONCURRENTLY build is not)."""
    rows = conn.execute(
        "SELECT c.relname, i.indisvalid FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'app' AND c.relname LIKE %s",
        [PREFIX.replace("_", r"\_") + "%"],
        prepare=False,
    ).fetchall()
    return {str(name): bool(valid) for name, valid in rows}


def shops(conn: Connection) -> list[UUID]:
    rows = conn.execute("SELECT tenant_id FROM app.directory_tenants()", prepare=False)
    return [UUID(str(r[0])) for r in rows.fetchall()]


def partition_if_big(conn: Connection, tenant_id: UUID, threshold: int) -> str | None:
    """The shop's hash partition when it holds `threshold` chunks or more, else None.
    Read under the shop's own context: row security is forced on the owner too."""
    with conn.transaction():
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)], prepare=False
        )
        count = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM app.ro_chunks WHERE tenant_id = %s LIMIT %s) s",
            [tenant_id, threshold],
            prepare=False,
        ).fetchone()
        if count is None or int(count[0]) < threshold:
            return None
        row = conn.execute(
            "SELECT tableoid::regclass::text FROM app.ro_chunks WHERE tenant_id = %s LIMIT 1",
            [tenant_id],
            prepare=False,
        ).fetchone()
    return None if row is None else str(row[0])


def build(conn: Connection, tenant_id: UUID, partition: str) -> str:
    name = index_name(tenant_id)
    schema, _, table = partition.rpartition(".")
    statement = sql.SQL(_BUILD).format(
        name=sql.Identifier(name),
        partition=sql.Identifier(schema or "app", table),
        tenant=sql.Literal(str(tenant_id)),
    )
    conn.execute(statement, prepare=False)
    return name


def drop(conn: Connection, name: str) -> None:
    conn.execute(
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier("app", name)),
        prepare=False,
    )


def run_pass(
    conn: Connection,
    *,
    threshold: int = EXACT_BELOW_ROWS,
    echo: Callable[[str], None] = lambda _line: None,
) -> Pass:
    """One pass over every shop; `conn` must be the owner's, in autocommit mode."""
    started = time.perf_counter()
    result = Pass()
    graphs = existing(conn)
    known = shops(conn)
    for name, valid in list(graphs.items()):
        if not valid:
            drop(conn, name)  # rebuilt below if the shop is still big
            graphs.pop(name)
            result.dropped.append(name)
    wanted = {index_name(shop) for shop in known}
    for name in sorted(set(graphs) - wanted):
        drop(conn, name)
        result.dropped.append(name)
    for shop in known:
        if index_name(shop) in graphs:
            continue
        partition = partition_if_big(conn, shop, threshold)
        if partition is None:
            continue
        began = time.perf_counter()
        result.built.append(build(conn, shop, partition))
        echo(f"built {index_name(shop)} on {partition} in {time.perf_counter() - began:.1f} s")
    result.seconds = time.perf_counter() - started
    return result
