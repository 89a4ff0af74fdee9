"""Many shops (issue 12): what one chunk partition (and HNSW graph) per shop costs when
there are 100, 1,000 or 10,000 small shops beside a few large ones.

    .venv/bin/python -u -P bench/tenants.py [--scales 100 1000 10000] [--chunks 100 300]
        [--large 5000 20000] [--layout per-shop|shared] [--server DIR]
        [--keep | --reuse DATABASE]

One fresh bench database (`bench.retrieval.Bench`: created, migrated, dropped at the end)
grows through the scales: the shops needed to reach each scale are created, loaded and
then measured. Shops are created one at a time through `create_tenant`, as the
application role (which creates the shop's chunk partition through migration 0009's
function). Chunks are synthetic (random unit vectors; only timings and sizes are
measured) and bulk-loaded with COPY as the superuser, per batch of shops, with triggers and
foreign-key checks off for the load (the repair orders they name exist).

Searches run as the application role through the service's own steps: `shop_rows`,
`choose_path`, `apply_planner_settings`, `vector_sql` (so whichever HNSW index the
migrations define is the one used), with the tenant context set; planning and execution
time come from EXPLAIN (ANALYZE). Backend memory is read from the session's own
pg_backend_memory_contexts, which the application role may not read: that session logs in
as the superuser and runs the searches after `SET LOCAL ROLE ro_app`.

Migration-like DDL on app.ro_chunks (add and drop a column, create and drop an index) runs
as the owner and takes a lock on every partition (and every partition's index) in one
transaction. PostgreSQL's lock table is shared by the whole server, so at 10,000 shops it
may run out and make other sessions' lock requests fail for a moment: `--server DIR` runs
the bench on a private embedded server in DIR (initialised on first use, same settings,
stopped at the end) instead of the shared one.

Since migration 0021 the schema itself shares 64 hash partitions among all shops, with an
HNSW graph only for the large shops (a partial index each, built by `db index-shops`), and
`--layout shared` (the default) measures it as migrated. Before 0021, `--layout shared`
built that layout as a prototype in the bench database (`share_partitions`, with
`--hash-partitions`), and `--layout per-shop` measured the migrations' partition per
shop; that layout now needs a checkout from before 0021. `--keep` keeps the
database (and the private server running); `--reuse` measures it again as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

# `-P` keeps bench/ off the import path (bench/retrieval.py would shadow the `retrieval`
# package); the project root goes on it instead.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import logging
from assistant.db.embedded import EmbeddedPostgres
from assistant.db.session import Database, DbContext, Role
from assistant.tenants import repository
from assistant.tenants.service import create_tenant, find_tenant
from retrieval import search
from retrieval.embedders import DIMENSIONS

_helpers: Any = importlib.import_module("bench.retrieval")
Bench: Any = _helpers.Bench
percentile: Callable[[list[float], float], float] = _helpers.percentile

SCALES = [100, 1_000, 10_000]
LARGE = [5_000, 20_000]
N = search.CANDIDATES
SAMPLE_SHOPS = 20
PROBES = 5
LOAD_BATCH = 50  # shops per COPY transaction: each touched partition and index is a lock
_Q = bindparam("q", type_=Vector(DIMENSIONS))


@dataclass
class Figures:
    scale: int
    shops: int = 0
    create_ms: list[float] = field(default_factory=list)
    create_s: float = 0.0
    load_s: float = 0.0
    profile: dict[str, float] = field(default_factory=dict)
    create_locks: str = ""
    small: list[tuple[float, float]] = field(default_factory=list)
    small_wall: list[float] = field(default_factory=list)
    cold_wall: list[float] = field(default_factory=list)
    large: dict[int, list[tuple[float, float, str]]] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    ddl: dict[str, str] = field(default_factory=dict)
    promote_s: float | None = None
    steps: int = 0
    failures: list[str] = field(default_factory=list)
    small_locks: list[int] = field(default_factory=list)
    generic: int = 0


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray[Any, Any]:
    points = rng.normal(0, 1, (n, DIMENSIONS)).astype(np.float32)
    unit: np.ndarray[Any, Any] = points / np.linalg.norm(points, axis=1, keepdims=True)
    return unit


# --- shops -----------------------------------------------------------------------------


async def create_shops(url: str, slugs: Sequence[str]) -> tuple[list[uuid.UUID], list[float]]:
    """Each through the service's create_tenant, timed one by one."""
    db = Database(url, pool_size=1, max_overflow=0)
    ids, times = [], []
    try:
        for i, slug in enumerate(slugs):
            started = time.perf_counter()
            shop = await create_tenant(db, slug, slug)
            times.append((time.perf_counter() - started) * 1000)
            ids.append(shop.tenant_id)
            if (i + 1) % 1_000 == 0:
                print(
                    f"  {i + 1:,} shops created, last 100: p50"
                    f" {statistics.median(times[-100:]):.0f} ms",
                    flush=True,
                )
    finally:
        await db.dispose()
    return ids, times


async def profile_create(url: str, slug: str) -> tuple[dict[str, float], str]:
    """create_tenant's steps timed apart, and the locks its transaction holds on
    app.ro_chunks before it commits (what every concurrent search then waits for)."""
    db = Database(url, pool_size=1, max_overflow=0)
    steps: dict[str, float] = {}
    try:
        async with db.transaction(None) as session:
            await session.execute(text("SELECT 1"))
        tenant_id = uuid.uuid4()
        t0 = time.perf_counter()
        async with db.transaction(DbContext(tenant_id=tenant_id, role=Role.ADMIN)) as session:
            t1 = time.perf_counter()
            await repository.insert_tenant(session, tenant_id, slug, slug)
            t2 = time.perf_counter()
            # What create_tenant called before migration 0021 (a no-op since).
            await session.execute(text("SELECT app.ensure_chunk_partition(:t)"), {"t": tenant_id})
            t3 = time.perf_counter()
            held = await session.execute(
                text(
                    "SELECT (SELECT string_agg(DISTINCT mode, ', ') FROM pg_locks"
                    "  WHERE pid = pg_backend_pid() AND relation = 'app.ro_chunks'::regclass),"
                    " (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid())"
                )
            )
            mode, count = held.one()
            t4 = time.perf_counter()
        t5 = time.perf_counter()
        await find_tenant(db, slug)
        t6 = time.perf_counter()
    finally:
        await db.dispose()
    steps = {
        "context": t1 - t0,
        "insert tenant": t2 - t1,
        "ensure_chunk_partition": t3 - t2,
        "commit": t5 - t4,
        "find_tenant": t6 - t5,
    }
    return {k: v * 1000 for k, v in steps.items()}, f"{mode}; {count} locks held"


_HNSW_OF = (
    "SELECT i.indexrelid, i.indexrelid::regclass::text FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
    " WHERE a.amname = 'hnsw' AND i.indrelid = ANY(%s::regclass[])"
)


def load_chunks(
    bench: Any, shops: dict[uuid.UUID, int], rng: np.random.Generator, per_shop: bool = True
) -> float:
    """One document and RO per shop, then `shops[t]` chunks each, LOAD_BATCH shops per
    transaction; each partition's HNSW graph is then built in bulk (REINDEX) and the
    partition analysed, as autovacuum would.

    Inserting into a small HNSW graph costs about 1 ms a chunk here (20 shops of 200
    chunks: 3.8 s, against 0.2 s without the index and 0.65 s to build the 20 graphs in
    bulk), which would make the 10,000-shop load last half an hour; so the graphs stop
    taking inserts for the load (pg_index.indisready, superuser, bench database only) and
    REINDEX builds them and marks them ready again. In the shared layout (`per_shop`
    false) there is no graph to build: the hash partitions are analysed at the end."""
    started = time.perf_counter()
    tenants = list(shops)
    with psycopg.connect(bench.superuser) as conn:
        register_vector(conn)
        conn.execute("SET session_replication_role = replica")
        for start in range(0, len(tenants), LOAD_BATCH):
            batch = tenants[start : start + LOAD_BATCH]
            partitions = [f"app.ro_chunks_{t.hex}" for t in batch]
            ro_of = {t: uuid.uuid4() for t in batch}
            docs = {t: uuid.uuid4() for t in batch}
            with conn.cursor() as cur:
                found = cur.execute(_HNSW_OF, [partitions]).fetchall() if per_shop else []
                graphs = [r[0] for r in found]
                cur.execute(
                    "UPDATE pg_index SET indisready = false WHERE indexrelid = ANY(%s::oid[])",
                    [graphs],
                )
                conn.commit()
                cur.executemany(
                    "INSERT INTO app.documents (doc_id, tenant_id, filename, mime_type, sha256)"
                    " VALUES (%s, %s, 'x', 'x', %s)",
                    [(docs[t], t, uuid.uuid4().bytes * 2) for t in batch],
                )
                cur.executemany(
                    "INSERT INTO app.repair_orders (ro_id, tenant_id, doc_id, ro_number)"
                    " VALUES (%s, %s, %s, '1')",
                    [(ro_of[t], t, docs[t]) for t in batch],
                )
                with cur.copy(
                    "COPY app.ro_chunks (tenant_id, ro_id, kind, content, embedding,"
                    " embedding_model, token_count) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["uuid", "uuid", "text", "text", "vector", "text", "int4"])
                    for t in batch:
                        for i, v in enumerate(unit_vectors(rng, shops[t])):
                            copy.write_row((t, ro_of[t], "line", f"chunk {i}", v, "synthetic", 8))
                conn.commit()
                for _, name in found:
                    cur.execute(f"REINDEX INDEX {name}".encode())
                for partition in partitions if per_shop else []:
                    cur.execute(f"ANALYZE {partition}".encode())
            conn.commit()
            left = conn.execute(
                "SELECT count(*) FROM pg_index WHERE indexrelid = ANY(%s::oid[])"
                " AND NOT (indisready AND indisvalid)",
                [graphs],
            ).fetchone()
            assert left == (0,), "an HNSW graph was left not ready"
        if not per_shop:
            conn.execute("ANALYZE app.ro_chunks")
            conn.commit()
    return time.perf_counter() - started


# --- searches --------------------------------------------------------------------------


async def search_step(
    session: AsyncSession, tenant: uuid.UUID, vector: list[float], explain: bool
) -> tuple[str, float, float, str]:
    """The vector step of a search as the service runs it. With `explain`: planning and
    execution time in ms and the scan that read the chunks."""
    rows = await search.shop_rows(session, tenant)
    path = search.choose_path(rows, search.Filters())
    await search.apply_planner_settings(session, path, N)
    params: dict[str, Any] = {"tenant": tenant, "q": vector, "n": N}
    statement = search.vector_sql(path, search.Filters(), params)
    if not explain:
        (await session.execute(text(statement).bindparams(_Q), params)).all()
        return path, 0.0, 0.0, ""
    result = await session.execute(
        text("EXPLAIN (ANALYZE, FORMAT JSON) " + statement).bindparams(_Q), params
    )
    plan = result.scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return path, plan[0]["Planning Time"], plan[0]["Execution Time"], scan_of(plan[0]["Plan"])


def scan_of(node: dict[str, Any]) -> str:
    if "Relation Name" in node:
        return str(node["Node Type"]) + (f" {node['Index Name']}" if "Index Name" in node else "")
    for child in node.get("Plans", []):
        found = scan_of(child)
        if found:
            return found
    return ""


_LOCKS = text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
_GENERIC = text("SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements")


def error_text(error: DBAPIError) -> str:
    return str(error.orig or error).splitlines()[0]


async def measure_searches(
    url: str,
    small: Sequence[uuid.UUID],
    large: dict[int, uuid.UUID],
    rng: np.random.Generator,
    figures: Figures,
) -> None:
    """Warm figures: each shop's third run on one connection, as a pooled connection of the
    service runs them (psycopg prepares a statement on its fifth run on a connection, and
    PostgreSQL may then plan it generically), with the locks its transaction holds. A step
    that fails is counted with its error. Cold: the first search step on a new connection
    (its first touch of app.ro_chunks), wall time."""
    sample = [small[i] for i in rng.choice(len(small), min(SAMPLE_SHOPS, len(small)), False)]
    queries = [v.tolist() for v in unit_vectors(rng, 10)]
    db = Database(url, pool_size=1, max_overflow=0)

    async def step(tenant: uuid.UUID, q: list[float]) -> tuple[str, float, float, str, int]:
        async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as s:
            path, plan_ms, exec_ms, scan = await search_step(s, tenant, q, True)
            locks = int((await s.execute(_LOCKS)).scalar_one())
        return path, plan_ms, exec_ms, scan, locks

    try:
        for tenant in sample:
            for run in range(3):
                figures.steps += 1
                started = time.perf_counter()
                try:
                    _, plan_ms, exec_ms, _, locks = await step(tenant, queries[run])
                except DBAPIError as error:
                    figures.failures.append(error_text(error))
                    continue
                if run == 2:
                    figures.small.append((plan_ms, exec_ms))
                    figures.small_wall.append((time.perf_counter() - started) * 1000)
                    figures.small_locks.append(locks)
        for size, tenant in large.items():
            figures.large[size] = []
            for q in queries:
                for run in range(3):
                    figures.steps += 1
                    try:
                        path, plan_ms, exec_ms, scan, _ = await step(tenant, q)
                    except DBAPIError as error:
                        figures.failures.append(error_text(error))
                        continue
                    if run == 2:
                        figures.large[size].append((plan_ms, exec_ms, f"{path}: {scan}"))
        async with db.transaction(None) as s:
            figures.generic = int((await s.execute(_GENERIC)).scalar_one())
    finally:
        await db.dispose()
    for tenant in sample[:PROBES]:
        db = Database(url, pool_size=1, max_overflow=0)
        try:
            async with db.transaction(None) as s:
                await s.execute(text("SELECT 1"))
            started = time.perf_counter()
            async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as s:
                await search_step(s, tenant, queries[0], False)
            figures.cold_wall.append((time.perf_counter() - started) * 1000)
        finally:
            await db.dispose()


_MEMORY = text(
    "WITH cache AS (SELECT path[level] AS id, level FROM pg_backend_memory_contexts"
    "  WHERE name = 'CacheMemoryContext')"
    " SELECT (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),"
    " (SELECT sum(m.total_bytes) FROM pg_backend_memory_contexts m, cache"
    "  WHERE m.level >= cache.level AND m.path[cache.level] = cache.id)"
)


async def measure_memory(
    superuser: str, shops: Sequence[uuid.UUID], rng: np.random.Generator
) -> dict[str, float]:
    """Backend memory (MB, all contexts; and the relation cache's part) after one search,
    and after one search in every shop on the same connection, as a pooled connection
    of the service ends up after serving them all. That connection plans every statement
    for its shop (plan_cache_mode force_custom_plan, session-wide): with generic plans
    each search locks every partition, which at 10,000 shops fails (measure_searches)."""
    vector = unit_vectors(rng, 1)[0].tolist()
    db = Database(superuser, pool_size=1, max_overflow=0)
    out: dict[str, float] = {}
    try:
        async with db.transaction(None) as s:
            await s.execute(text("SET plan_cache_mode = force_custom_plan"))
            total, cache = (await s.execute(_MEMORY)).one()
            out["new connection"], out["new connection cache"] = total / 2**20, cache / 2**20
        started = time.perf_counter()
        failed = 0
        for i, tenant in enumerate(shops):
            try:
                async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as s:
                    await s.execute(text("SET LOCAL ROLE ro_app"))
                    await search_step(s, tenant, vector, False)
                    if i == 0:
                        await s.execute(text("RESET ROLE"))
                        total, cache = (await s.execute(_MEMORY)).one()
                        out["one search"], out["one search cache"] = (
                            total / 2**20,
                            cache / 2**20,
                        )
            except DBAPIError:
                failed += 1
        out["every shop seconds"] = time.perf_counter() - started
        out["every shop failed"] = failed
        async with db.transaction(None) as s:
            total, cache = (await s.execute(_MEMORY)).one()
            out["every shop"], out["every shop cache"] = total / 2**20, cache / 2**20
    finally:
        await db.dispose()
    return out


# --- sizes and DDL ---------------------------------------------------------------------


def partition_sizes(
    bench: Any, small: Sequence[uuid.UUID], large: dict[int, uuid.UUID], empty: uuid.UUID
) -> dict[str, float]:
    """Bytes on disk (kB): heap, the partition with its indexes and TOAST, its HNSW
    index; the median over a sample of small shops; the catalog and the database."""
    hnsw = (
        "SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
        " WHERE i.indrelid = %s::regclass AND a.amname = 'hnsw'"
        " AND (i.indpred IS NULL OR pg_get_expr(i.indpred, i.indrelid) LIKE %s)"
    )
    out: dict[str, float] = {}
    with psycopg.connect(bench.superuser, autocommit=True) as conn:

        def of(tenant: uuid.UUID) -> tuple[float, float, float]:
            """The relation that holds the shop's chunks: its own partition, or in the
            shared layout the hash partition (and only the shop's own HNSW index)."""
            name = relation_of(conn, tenant)
            if name is None:
                return 0.0, 0.0, 0.0
            heap, total = conn.execute(
                "SELECT pg_relation_size(%s::regclass), pg_total_relation_size(%s::regclass)",
                [name, name],
            ).fetchone() or (0, 0)
            index = (conn.execute(hnsw, [name, f"%{tenant}%"]).fetchone() or (0,))[0]
            return heap / 1024, total / 1024, index / 1024

        samples = [of(t) for t in small[:SAMPLE_SHOPS]]
        for i, key in enumerate(("small heap", "small total", "small hnsw")):
            out[key] = statistics.median(s[i] for s in samples)
        for size, tenant in large.items():
            out[f"large {size} heap"], out[f"large {size} total"], out[f"large {size} hnsw"] = of(
                tenant
            )
        out["empty total"] = of(empty)[1]
        row = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class),"
            " (SELECT count(*) FROM pg_inherits WHERE inhparent = 'app.ro_chunks'::regclass),"
            " (SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
            "   WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind = 'r'),"
            " (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits"
            "   WHERE inhparent = 'app.ro_chunks'::regclass),"
            " pg_database_size(current_database())"
        ).fetchone()
        assert row is not None
        out["pg_class rows"], out["partitions"] = row[0], row[1]
        out["catalog MB"], out["chunks MB"], out["database MB"] = (
            row[2] / 2**20,
            row[3] / 2**20,
            row[4] / 2**20,
        )
    return out


DDL = [
    ("add column", "ALTER TABLE app.ro_chunks ADD COLUMN bench_x int"),
    ("drop column", "ALTER TABLE app.ro_chunks DROP COLUMN bench_x"),
    ("create index", "CREATE INDEX bench_created_at ON app.ro_chunks (created_at)"),
    ("drop index", "DROP INDEX app.bench_created_at"),
]
UNDOES = {"drop column": "add column", "drop index": "create index"}


def migration_ddl(bench: Any) -> dict[str, str]:
    """Each statement in a transaction of its own, as the owner (a migration's role),
    committed: seconds and the locks the transaction held; or the error."""
    out: dict[str, str] = {}
    failed: set[str] = set()
    for name, statement in DDL:
        if UNDOES.get(name) in failed:
            out[name] = "skipped"
            continue
        with psycopg.connect(bench.owner) as conn:
            started = time.perf_counter()
            try:
                conn.execute(statement.encode())
                locks = (
                    conn.execute(
                        "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
                    ).fetchone()
                    or (0,)
                )[0]
                conn.commit()
                out[name] = f"{time.perf_counter() - started:.1f} s, {locks:,} locks"
            except psycopg.Error as error:
                conn.rollback()
                failed.add(name)
                reason = (error.diag.message_primary or str(error)).strip()
                out[name] = (
                    f"fails after {time.perf_counter() - started:.1f} s: {reason}"
                    f" ({error.sqlstate})"
                )
    return out


def relation_of(conn: psycopg.Connection[Any], tenant: uuid.UUID) -> str | None:
    # Never prepared: a prepared LIMIT query on app.ro_chunks gets a generic plan, which
    # locks every partition (at 10,000 shops: "out of shared memory").
    found = conn.execute(
        "SELECT tableoid::regclass::text FROM app.ro_chunks WHERE tenant_id = %s LIMIT 1",
        [tenant],
        prepare=False,
    ).fetchone()
    if found:
        return str(found[0])
    own = conn.execute("SELECT to_regclass(%s)::text", [f"app.ro_chunks_{tenant.hex}"]).fetchone()
    return str(own[0]) if own and own[0] else None


def relation_of_partitioned(bench: Any) -> str:
    """'l' (list: a partition per shop) or 'h' (hash: the shared layout)."""
    with psycopg.connect(bench.superuser) as conn:
        found = conn.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'app.ro_chunks'::regclass"
        ).fetchone()
    return str(found[0]) if found else ""


# --- the proposal, prototyped in the bench database ------------------------------------


# A shop's graph as migration 0021's job (`assistant.db.shop_graphs`) builds it.
SCHEMA_GRAPH = (
    "USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops) WITH (m = 16, ef_construction = 128)"
)


def share_partitions(bench: Any, count: int) -> str:
    """The proposed layout, built in the bench database only (migrations untouched):
    app.ro_chunks re-created PARTITION BY HASH (tenant_id) into `count` partitions with the
    schema's columns, constraints, non-HNSW indexes, row security, grants, triggers and
    foreign keys (read from the catalog, so it follows the migrations); no HNSW index on
    the parent; app.ensure_chunk_partition made a no-op (a shop needs no DDL). A shop past
    the exact-search threshold gets a partial HNSW index on its hash partition (`promote`).
    Returns the schema's HNSW definition (`USING hnsw ... WITH (...)`)."""
    with psycopg.connect(bench.owner) as conn:
        name, definition = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE i.indrelid = 'app.ro_chunks'::regclass AND a.amname = 'hnsw'"
        ).fetchone() or ("", "")
        how = str(definition[definition.index("USING ") :])
        triggers = [
            r[0]
            for r in conn.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger"
                " WHERE tgrelid = 'app.ro_chunks'::regclass AND NOT tgisinternal"
            )
        ]
        own_keys = conn.execute(
            "SELECT 'app.ro_chunks', conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'app.ro_chunks'::regclass AND contype = 'f'"
        ).fetchall()
        their_keys = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE confrelid = 'app.ro_chunks'::regclass AND contype = 'f'"
            " AND conparentid = 0"
        ).fetchall()
        policies = conn.execute(
            "SELECT policyname, permissive, cmd, array_to_string(roles, ', '), qual, with_check"
            " FROM pg_policies WHERE schemaname = 'app' AND tablename = 'ro_chunks'"
        ).fetchall()
        grants = conn.execute(
            "SELECT grantee, string_agg(privilege_type, ', ') FROM information_schema"
            ".role_table_grants WHERE table_schema = 'app' AND table_name = 'ro_chunks'"
            " AND grantee <> current_user GROUP BY grantee"
        ).fetchall()
        statements = [
            f"DROP INDEX {name}",
            "ALTER TABLE app.ro_chunks RENAME TO ro_chunks_per_shop",
            "CREATE TABLE app.ro_chunks (LIKE app.ro_chunks_per_shop INCLUDING ALL)"
            " PARTITION BY HASH (tenant_id)",
        ]
        for i in range(count):
            part = f"app.ro_chunks_h{i:03d}"
            statements += [
                f"CREATE TABLE {part} PARTITION OF app.ro_chunks"
                f" FOR VALUES WITH (MODULUS {count}, REMAINDER {i})",
                f"SELECT app.secure_chunk_partition('{part}')",
            ]
        statements += [
            "ALTER TABLE app.ro_chunks ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE app.ro_chunks FORCE ROW LEVEL SECURITY",
            *(
                f"CREATE POLICY {p} ON app.ro_chunks AS {kind} FOR {cmd} TO {roles}"
                + (f" USING ({qual})" if qual else "")
                + (f" WITH CHECK ({check})" if check else "")
                for p, kind, cmd, roles, qual, check in policies
            ),
            *(
                f"GRANT {privileges} ON app.ro_chunks TO {grantee}"
                for grantee, privileges in grants
            ),
            "DROP TABLE app.ro_chunks_per_shop CASCADE",
            *(f"ALTER TABLE {table} ADD CONSTRAINT {c} {d}" for table, c, d in own_keys),
            *(f"ALTER TABLE {table} ADD CONSTRAINT {c} {d}" for table, c, d in their_keys),
            *triggers,
            "CREATE OR REPLACE FUNCTION app.ensure_chunk_partition(shop uuid) RETURNS text"
            " LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
            " AS $$ SELECT 'ro_chunks'::text $$",
        ]
        for statement in statements:
            conn.execute(statement.encode())
        conn.commit()
    return how


def promote(bench: Any, tenant: uuid.UUID, how: str) -> float:
    """What the background job would do for a shop past the threshold: its own HNSW graph,
    a partial index on its hash partition, built CONCURRENTLY (searches and writes go on).
    Seconds."""
    index = f"ro_chunks_hnsw_{tenant.hex}"
    with psycopg.connect(bench.superuser, autocommit=True) as conn:
        part = relation_of(conn, tenant)
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS app.{index}".encode())
        started = time.perf_counter()
        only = f"WHERE tenant_id = '{tenant}'"
        conn.execute(f"CREATE INDEX CONCURRENTLY {index} ON {part} {how} {only}".encode())
        elapsed = time.perf_counter() - started
        conn.execute(f"ANALYZE {part}".encode())
    return elapsed


# --- the run ---------------------------------------------------------------------------


def ms(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(list(values), 0.5):.1f} / {percentile(list(values), 0.95):.1f}"


def report(rows: list[Figures], large: list[int], chunks: tuple[int, int], layout: str) -> None:
    def line(label: str, cells: list[str]) -> None:
        print(f"| {label} | " + " | ".join(cells) + " |")

    print()
    line(f"{layout} layout: small shops", [f"{f.scale:,} ({f.shops:,} in all)" for f in rows])
    print("| --- |" + " --- |" * len(rows))
    line(
        "create a shop (create_tenant), p50 / p95 ms",
        [ms(f.create_ms) for f in rows],
    )
    line(
        "  the same, last 100 created, p50 ms",
        [f"{statistics.median(f.create_ms[-100:]):.1f}" if f.create_ms else "-" for f in rows],
    )
    line("  creating them, wall", [f"{f.create_s:.0f} s" for f in rows])
    for step in rows[0].profile:
        line(f"  {step}, ms (median of {PROBES})", [f"{f.profile[step]:.1f}" for f in rows])
    line("  locks of the creating transaction", [f.create_locks for f in rows])
    line(
        f"loading their chunks ({chunks[0]}-{chunks[1]} a shop), wall",
        [f"{f.load_s:.0f} s" for f in rows],
    )
    line(
        f"small shop search: planning p50 / p95 ms ({SAMPLE_SHOPS} shops, warm)",
        [ms([p for p, _ in f.small]) for f in rows],
    )
    line("small shop search: execution p50 / p95 ms", [ms([e for _, e in f.small]) for f in rows])
    line(
        "  locks held by its transaction (warm connection), p50 / max",
        [
            f"{statistics.median(f.small_locks):,.0f} / {max(f.small_locks):,}"
            if f.small_locks
            else "-"
            for f in rows
        ],
    )
    line(
        "  statement runs on a generic plan on that connection",
        [f"{f.generic:,}" for f in rows],
    )
    line(
        "  search steps failed (of all warm runs, small and large)",
        [
            f"{len(f.failures)} of {f.steps}"
            + (f": {sorted(set(f.failures))[0]}" if f.failures else "")
            for f in rows
        ],
    )
    line(
        "small shop search step, wall p50 / p95 ms (shop_rows + settings + vector SQL)",
        [ms(f.small_wall) for f in rows],
    )
    line(
        f"  the same, first search on a new connection, wall median of {PROBES} ms",
        [f"{statistics.median(f.cold_wall):.1f}" for f in rows],
    )
    for size in large:
        line(
            f"large shop ({size:,} chunks) search: planning p50 / p95 ms",
            [ms([p for p, _, _ in f.large[size]]) for f in rows],
        )
        line(
            f"large shop ({size:,} chunks) search: execution p50 / p95 ms",
            [ms([e for _, e, _ in f.large[size]]) for f in rows],
        )
        line(f"  plan ({size:,})", [f.large[size][0][2] for f in rows])
    line(
        "small partition: heap / total / HNSW index, kB (median)",
        [
            f"{f.sizes['small heap']:.0f} / {f.sizes['small total']:.0f} /"
            f" {f.sizes['small hnsw']:.0f}"
            for f in rows
        ],
    )
    for size in large:
        line(
            f"large partition ({size:,}): heap / total / HNSW, kB",
            [
                f"{f.sizes[f'large {size} heap']:.0f} / {f.sizes[f'large {size} total']:.0f} /"
                f" {f.sizes[f'large {size} hnsw']:.0f}"
                for f in rows
            ],
        )
    line("empty shop's partition, total kB", [f"{f.sizes['empty total']:.0f}" for f in rows])
    line("partitions of app.ro_chunks", [f"{f.sizes['partitions']:,.0f}" for f in rows])
    line("pg_class rows", [f"{f.sizes['pg_class rows']:,.0f}" for f in rows])
    line(
        "catalog (pg_catalog tables + indexes), MB", [f"{f.sizes['catalog MB']:.0f}" for f in rows]
    )
    line("all chunk partitions, MB", [f"{f.sizes['chunks MB']:,.0f}" for f in rows])
    line("database, MB", [f"{f.sizes['database MB']:,.0f}" for f in rows])
    line(
        "backend memory, new connection / after one search, MB",
        [f"{f.memory['new connection']:.1f} / {f.memory['one search']:.1f}" for f in rows],
    )
    line(
        "backend memory after searching every shop once on it, MB (relation cache)",
        [f"{f.memory['every shop']:.0f} ({f.memory['every shop cache']:.0f})" for f in rows],
    )
    line(
        "  searching every shop once, one connection, wall (failed searches)",
        [
            f"{f.memory['every shop seconds']:.0f} s ({f.memory['every shop failed']:.0f})"
            for f in rows
        ],
    )
    for name, _ in DDL:
        line(f"migration DDL: {name}", [f.ddl[name] for f in rows])
    if rows[0].promote_s is not None:
        line(
            f"promote a shop past the threshold ({large[0]:,} chunks): its partial HNSW,"
            " CREATE INDEX CONCURRENTLY",
            [f"{f.promote_s:.1f} s" for f in rows],
        )


async def timed_create(bench: Any, slugs: Sequence[str], figures: Figures) -> list[uuid.UUID]:
    started = time.perf_counter()
    ids, times = await create_shops(bench.app, slugs)
    figures.create_s = time.perf_counter() - started
    figures.create_ms = times
    return ids


def main() -> None:
    logging.configure("WARNING")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=SCALES)
    parser.add_argument(
        "--chunks",
        type=int,
        nargs=2,
        default=(100, 300),
        metavar=("MIN", "MAX"),
        help="chunks of a small shop, drawn uniformly",
    )
    parser.add_argument("--large", type=int, nargs="*", default=LARGE)
    parser.add_argument("--server", type=Path, help="a private embedded server's data folder")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--layout",
        choices=["per-shop", "shared"],
        default="shared",
        help="shared: the schema's since 0021; per-shop: before 0021 only",
    )
    parser.add_argument("--hash-partitions", type=int, default=16)
    parser.add_argument(
        "--reuse",
        metavar="DATABASE",
        help="measure a database kept with --keep as it is (no shops created or loaded)",
    )
    args = parser.parse_args()
    per_shop = args.layout == "per-shop"
    if args.server:
        os.environ["RO_ASSISTANT_DATA_DIR"] = str(args.server.resolve())
    rng = np.random.default_rng(12)
    started = time.perf_counter()
    bench = Bench(args.reuse)
    print(f"bench database {bench.name}", flush=True)
    rows: list[Figures] = []
    try:
        with psycopg.connect(bench.superuser) as conn:
            settings = conn.execute(
                "SELECT string_agg(name || ' = ' || current_setting(name), ', ') FROM pg_settings"
                " WHERE name IN ('max_locks_per_transaction', 'max_connections',"
                " 'shared_buffers', 'server_version')"
            ).fetchone()
        print(f"server: {settings[0] if settings else ''}", flush=True)
        small: list[uuid.UUID] = []
        probes = 0
        if args.reuse:
            with psycopg.connect(bench.superuser) as conn:
                shops = conn.execute("SELECT slug, tenant_id FROM app.tenants ORDER BY slug")
                kept = shops.fetchall()
            large = {int(g.split("-")[1]): t for g, t in kept if g.startswith("large-")}
            small = [t for g, t in kept if g.startswith("small-")]
            probes = sum(1 for g, _ in kept if g.startswith("probe-"))
            args.large, args.scales = sorted(large), [len(small)]
            per_shop = relation_of_partitioned(bench) == "l"
            args.layout = "per-shop" if per_shop else "shared"
        else:
            if relation_of_partitioned(bench) == "h":  # migration 0021: shared is the schema
                if per_shop:
                    raise SystemExit(
                        "the schema shares hash partitions since migration 0021; the per-shop"
                        " layout needs a checkout from before it"
                    )
                how = SCHEMA_GRAPH
            else:
                how = "" if per_shop else share_partitions(bench, args.hash_partitions)
            large_ids = asyncio.run(create_shops(bench.app, [f"large-{n}" for n in args.large]))[0]
            large = dict(zip(args.large, large_ids, strict=True))
            load = time.perf_counter()
            load_chunks(bench, {t: n for n, t in large.items()}, rng, per_shop)
            for tenant in large.values() if not per_shop else []:
                promote(bench, tenant, how)
            print(f"large shops loaded in {time.perf_counter() - load:.0f} s", flush=True)
        for scale in sorted(args.scales):
            figures = Figures(scale)
            print(f"scale {scale:,}: creating {scale - len(small):,} shops", flush=True)
            slugs = [f"small-{i:05d}" for i in range(len(small), scale)]
            new = asyncio.run(timed_create(bench, slugs, figures))
            small += new
            figures.load_s = load_chunks(
                bench,
                {t: int(rng.integers(args.chunks[0], args.chunks[1] + 1)) for t in new},
                rng,
                per_shop,
            )
            if not per_shop and not args.reuse:
                figures.promote_s = promote(bench, large[args.large[0]], how)
            p50 = statistics.median(figures.create_ms) if figures.create_ms else 0.0
            print(
                f"  created in {figures.create_s:.0f} s (p50 {p50:.0f} ms),"
                f" loaded in {figures.load_s:.0f} s",
                flush=True,
            )
            profiles, empty = [], uuid.UUID(int=0)
            for _ in range(PROBES):
                profile, figures.create_locks = asyncio.run(
                    profile_create(bench.app, f"probe-{probes:03d}")
                )
                probes += 1
                profiles.append(profile)
            figures.profile = {k: statistics.median(p[k] for p in profiles) for k in profiles[0]}
            with psycopg.connect(bench.superuser) as conn:
                probe = conn.execute(
                    "SELECT tenant_id FROM app.tenants WHERE slug = %s", [f"probe-{probes - 1:03d}"]
                ).fetchone()
                empty = probe[0] if probe else empty
            figures.shops = len(small) + len(large) + probes
            asyncio.run(measure_searches(bench.app, small, large, rng, figures))
            print(f"  searches measured: small {ms([e for _, e in figures.small])} ms", flush=True)
            figures.sizes = partition_sizes(bench, small, large, empty)
            figures.memory = asyncio.run(
                measure_memory(bench.superuser, [*small, *large.values()], rng)
            )
            print(f"  memory {figures.memory}", flush=True)
            figures.ddl = migration_ddl(bench)
            print(f"  DDL {figures.ddl}", flush=True)
            rows.append(figures)
        report(rows, args.large, args.chunks, args.layout)
        print(
            f"\n{datetime.now(UTC):%Y-%m-%d}, {args.layout} layout"
            + ("" if per_shop else f" ({rows[-1].sizes['partitions']:,.0f} hash partitions)")
            + f", scales {args.scales}, small shops {args.chunks[0]}-{args.chunks[1]} chunks,"
            f" large {args.large}"
        )
    finally:
        if args.keep:
            print(f"kept database {bench.name}")
        else:
            bench.drop()
        if args.server and not args.keep:
            EmbeddedPostgres(bench.settings.data_dir).stop()
        print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
