"""Retrieval benchmark: recall against exact search per shop size, SQL latency and
throughput, index build time.

    .venv/bin/python -P bench/retrieval.py synthetic [--vectors 1000000 --tenants 100]
    .venv/bin/python -P bench/retrieval.py demo [--shops 50 --ros 36000]

`synthetic` is the worst case: vectors from one clustered distribution, spread over the
tenants at random (content unrelated to tenant). `demo` ingests generated demo shops of
very different sizes through the real ingest path (chunking, local embeddings). Both run on
a fresh database of the embedded server (`-P` keeps this folder off the import path, where
this file would shadow the `retrieval` package); bulk loading uses its superuser (COPY cannot run
under row-level security), every query runs as the application role through the same SQL
the service uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from assistant import logging
from assistant.db import conninfo, migrate, shop_graphs
from assistant.db.embedded import SUPERUSER, EmbeddedPostgres
from assistant.db.session import Database, DbContext, Role
from assistant.embedding import embedder_for
from assistant.pii import keyring
from assistant.pii.keyring import KeyRing
from assistant.settings import Settings
from assistant.tenants.service import create_tenant
from retrieval.embedders import Embedder
from retrieval.search import EF_SEARCH, Filters, choose_path, planner_settings, vector_sql

K = 10
# The parent's indexes that a bulk load drops and builds after; each big shop's HNSW graph
# is built after them by the service's own job (`shop_graphs`, migration 0021).
INDEXES = {
    "ro_chunks_fts_english": "USING gin (fts_english)",
    "ro_chunks_fts_simple": "USING gin (fts_simple)",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, reuse: str | None = None) -> None:
        self.settings = Settings.from_env()
        server = EmbeddedPostgres(self.settings.data_dir)
        server.start()
        self.name = reuse or f"ro_bench_{uuid.uuid4().hex[:8]}"
        owner = conninfo.owner_url(self.settings)
        if not reuse:
            with psycopg.connect(owner, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.owner = conninfo.with_database(owner, self.name)
        self.app = conninfo.with_database(conninfo.app_url(self.settings), self.name)
        self.superuser = server.url(SUPERUSER, self.name)
        migrate.migrate(self.owner, self.settings.migrations_dir, echo=lambda _: None)

    @property
    def ring_path(self) -> Path:
        return self.settings.data_dir / "bench" / f"{self.name}.keyring.json"

    def drop(self) -> None:
        maintenance = conninfo.with_database(self.superuser, "postgres")
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    async def tenants(self, count: int) -> list[uuid.UUID]:
        db = Database(self.app)
        try:
            return [
                (await create_tenant(db, f"bench-{i:03d}", f"Bench {i}")).tenant_id
                for i in range(count)
            ]
        finally:
            await db.dispose()

    def drop_indexes(self) -> None:
        with psycopg.connect(self.owner, autocommit=True) as conn:
            for name in INDEXES:
                conn.execute(sql.SQL("DROP INDEX app.{}").format(sql.Identifier(name)))

    def build_indexes(self) -> dict[str, float]:
        times = {}
        with psycopg.connect(self.owner, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            for name, how in INDEXES.items():
                started = time.perf_counter()
                conn.execute(f"CREATE INDEX {name} ON app.ro_chunks {how}".encode())
                times[name] = time.perf_counter() - started
            started = time.perf_counter()
            shop_graphs.run_pass(conn)
            times["shop graphs"] = time.perf_counter() - started
            conn.execute("ANALYZE app.ro_chunks")
        return times

    def copy_chunks(self, rows: Any) -> None:
        with psycopg.connect(self.superuser) as conn:
            register_vector(conn)
            with (
                conn.cursor() as cur,
                cur.copy(
                    "COPY app.ro_chunks (tenant_id, ro_id, kind, content, embedding,"
                    " embedding_model, token_count) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)

    def sizes(self) -> dict[uuid.UUID, int]:
        with psycopg.connect(self.superuser) as conn:
            return {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT tenant_id, count(*) FROM app.ro_chunks GROUP BY 1"
                ).fetchall()
            }


def nearest(
    conn: psycopg.Connection[Any], tenant: uuid.UUID, vector: Any, path: str, ef: int = EF_SEARCH
) -> list[Any]:
    params: dict[str, Any] = {"tenant": tenant, "q": vector, "n": K}
    query = (
        vector_sql(path, Filters(), params)
        .replace(":tenant", "%(tenant)s")
        .replace(":q", "%(q)s")
        .replace(":n", "%(n)s")
    )
    planner = planner_settings(path, K) | {"hnsw.ef_search": str(ef)}
    with conn.transaction():
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.role',"
            " 'TECH', true), set_config('hnsw.ef_search', %s, true),"
            " set_config('enable_sort', %s, true)",
            [str(tenant), planner["hnsw.ef_search"], planner["enable_sort"]],
        )
        return [r[0] for r in conn.execute(query.encode(), params).fetchall()]


def bucket_of(share: float) -> str:
    for limit in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2):
        if share <= limit:
            return f"<= {limit:.1%}"
    return "> 20%"


def measure(
    bench: Bench,
    queries: list[tuple[uuid.UUID, Any]],
    sizes: dict[uuid.UUID, int],
    seconds: float,
    efs: list[int],
) -> None:
    """Recall first (which also warms the cache), then latency and throughput per ef_search."""
    conn = psycopg.connect(bench.app)
    register_vector(conn)
    total = sum(sizes.values())
    exact = [nearest(conn, t, v, "exact") for t, v in queries]
    for ef in efs:
        per_bucket: dict[str, list[float]] = {}
        short = 0
        for (tenant, vector), truth in zip(queries, exact, strict=True):
            path = choose_path(sizes[tenant], Filters())
            approx = nearest(conn, tenant, vector, path, ef)
            short += len(approx) != min(K, sizes[tenant])
            bucket = f"{path:<6} shop {bucket_of(sizes[tenant] / total)}"
            per_bucket.setdefault(bucket, []).append(len(set(approx) & set(truth)) / len(truth))
        print(f"ef_search {ef}: recall@{K} against exact search, by path and shop share:")
        for bucket, values in sorted(per_bucket.items()):
            print(
                f"  {bucket:<22} queries {len(values):<4} mean {statistics.fmean(values):.4f}"
                f"  min {min(values):.2f}"
            )
        print(f"  queries returning other than min(k, shop chunks) rows: {short} of {len(queries)}")
        latencies = []
        for tenant, vector in queries:
            started = time.perf_counter()
            nearest(conn, tenant, vector, choose_path(sizes[tenant], Filters()), ef)
            latencies.append((time.perf_counter() - started) * 1000)
        print(
            f"  vector SQL, one client: p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p95 {percentile(latencies, 0.95):.1f} ms"
        )
        print(
            f"  vector SQL, 4 clients for {seconds:.0f} s: "
            f"{throughput(bench, queries, sizes, seconds, ef):.0f} queries/s"
        )
    conn.close()


def throughput(
    bench: Bench,
    queries: list[tuple[uuid.UUID, Any]],
    sizes: dict[uuid.UUID, int],
    seconds: float,
    ef: int,
) -> float:
    counts = [0] * 4
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        with psycopg.connect(bench.app) as c:
            register_vector(c)
            j = i
            while time.monotonic() < stop:
                tenant, vector = queries[j % len(queries)]
                nearest(c, tenant, vector, choose_path(sizes[tenant], Filters()), ef)
                counts[i] += 1
                j += 4

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def synthetic(args: argparse.Namespace) -> None:
    bench = Bench()
    try:
        tenants = asyncio.run(bench.tenants(args.tenants))
        rng = np.random.default_rng(11)
        centers = rng.normal(0, 1, (1000, 384)).astype(np.float32)
        ro_of = {}
        with psycopg.connect(bench.superuser) as conn:
            for tenant in tenants:
                doc, ro = uuid.uuid4(), uuid.uuid4()
                conn.execute(
                    "INSERT INTO app.documents (doc_id, tenant_id, filename, mime_type, sha256)"
                    " VALUES (%s, %s, 'x', 'x', %s)",
                    [doc, tenant, uuid.uuid4().bytes * 2],
                )
                conn.execute(
                    "INSERT INTO app.repair_orders (ro_id, tenant_id, doc_id, ro_number)"
                    " VALUES (%s, %s, %s, '1')",
                    [ro, tenant, doc],
                )
                ro_of[tenant] = ro
        bench.drop_indexes()
        started = time.perf_counter()
        owners = rng.integers(0, len(tenants), args.vectors)

        def rows() -> Any:
            for start in range(0, args.vectors, 50_000):
                n = min(50_000, args.vectors - start)
                points = centers[rng.integers(0, len(centers), n)] + rng.normal(
                    0, 0.3, (n, 384)
                ).astype(np.float32)
                points /= np.linalg.norm(points, axis=1, keepdims=True)
                for i in range(n):
                    tenant = tenants[owners[start + i]]
                    yield (
                        tenant,
                        ro_of[tenant],
                        "line",
                        f"synthetic chunk {start + i}",
                        points[i],
                        "synthetic",
                        8,
                    )

        bench.copy_chunks(rows())
        print(
            f"loaded {args.vectors:,} vectors over {len(tenants)} tenants in "
            f"{time.perf_counter() - started:.0f} s"
        )
        times = bench.build_indexes()
        print("index build: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
        sizes = bench.sizes()
        queries = []
        for tenant in tenants:
            for _ in range(args.queries_per_tenant):
                q = centers[rng.integers(0, len(centers))] + rng.normal(0, 0.3, 384)
                queries.append((tenant, (q / np.linalg.norm(q)).astype(np.float32)))
        measure(bench, queries, sizes, args.seconds, args.ef)
    finally:
        bench.drop()


def demo(args: argparse.Namespace) -> None:
    """Demo shops of very different sizes, then recall, latency and hybrid search."""
    from assistant.auth.caller import Caller
    from assistant.chat.question import search_as

    bench = Bench(args.reuse)
    try:
        settings = bench.settings
        embedder = embedder_for(settings)
        if args.reuse:
            ring = keyring.load(None, bench.ring_path)
            with psycopg.connect(bench.superuser) as conn:
                tenants = [
                    r[0]
                    for r in conn.execute(
                        "SELECT tenant_id FROM app.tenants WHERE slug LIKE 'demo-%' ORDER BY slug"
                    )
                ]
        else:
            ring = KeyRing.generate()
            tenants = load_demo_shops(bench, ring, embedder, args.shops, args.ros)
        sizes = bench.sizes()
        print(
            f"{sum(sizes.values()):,} chunks in {len(tenants)} shops; shops hold "
            f"{min(sizes.values()) / sum(sizes.values()):.2%} to "
            f"{max(sizes.values()) / sum(sizes.values()):.2%} of the chunks"
        )
        questions = [
            "brake pedal pulsates at highway speed",
            "check engine light P0420 catalyst",
            "AC blowing warm at idle",
            "no start clicking battery",
            "oil change synthetic",
            "front end noise when turning",
            "coolant leak water pump",
            "rear tires declined",
        ]
        vectors = embedder.embed(questions)
        rng = np.random.default_rng(5)
        queries = [(t, vectors[rng.integers(0, len(questions))]) for t in tenants for _ in range(8)]
        measure(bench, queries, sizes, args.seconds, args.ef)

        async def hybrid() -> list[float]:
            db = Database(bench.app)
            timings = []
            try:
                for t in tenants:
                    caller = Caller(DbContext(tenant_id=t, role=Role.TECH), "bench", "bench")
                    for q in questions:
                        started = time.perf_counter()
                        result = await search_as(db, ring, embedder, caller, q, k=K)
                        wall = (time.perf_counter() - started) * 1000
                        timings.append(wall - result.trace.embed_ms)
            finally:
                await db.dispose()
            return timings

        timings = asyncio.run(hybrid())
        print(
            f"hybrid search as a user (question reading, vector, full text, fusion, hydration, "
            f"transaction; query embedding excluded): "
            f"p50 {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms"
        )
    finally:
        if args.keep or args.reuse:
            print(f"kept database {bench.name}: rerun with --reuse {bench.name}")
        else:
            bench.drop()


def load_demo_shops(
    bench: Bench, ring: KeyRing, embedder: Embedder, shops: int, ros: int
) -> list[uuid.UUID]:
    """Shops from 0.2% to 20% of all ROs, ingested (and embedded) the way production is."""
    from assistant.demo.generator import generate_shop_records
    from assistant.ingest.service import ingest_bytes

    # The largest shop gets 20%, the others a geometric series from 0.2% whose top is
    # chosen so that they hold the other 80%.
    low, high = 0.002, 0.2
    for _ in range(60):
        top = (low + high) / 2
        low, high = (top, high) if np.geomspace(0.002, top, shops - 1).sum() < 0.8 else (low, top)
    shares = [*np.geomspace(0.002, top, shops - 1), 0.2]
    counts = [max(10, round(ros * s)) for s in shares]
    keyring.save(ring, bench.ring_path)

    async def load() -> list[uuid.UUID]:
        db = Database(bench.app)
        tenants = []
        try:
            for i, count in enumerate(counts):
                shop = await create_tenant(db, f"demo-{i:03d}", f"Demo {i}")
                records = generate_shop_records(i, count)
                content = "".join(json.dumps(r) + "\n" for r in records).encode()
                report = await ingest_bytes(
                    db, ring, embedder, shop.tenant_id, "demo.jsonl", content
                )
                assert not report.rejected
                tenants.append(shop.tenant_id)
        finally:
            await db.dispose()
        return tenants

    started = time.perf_counter()
    tenants = asyncio.run(load())
    load_s = time.perf_counter() - started
    with psycopg.connect(bench.owner, autocommit=True) as conn:
        conn.execute("ANALYZE app.ro_chunks")
    print(f"ingested {sum(counts):,} ROs in {shops} shops in {load_s:.0f} s (with embedding)")
    return tenants


def main() -> None:
    logging.configure("WARNING")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="scenario", required=True)
    syn = sub.add_parser("synthetic")
    syn.add_argument("--vectors", type=int, default=1_000_000)
    syn.add_argument("--tenants", type=int, default=100)
    syn.add_argument("--queries-per-tenant", type=int, default=5)
    syn.add_argument("--seconds", type=float, default=15)
    syn.add_argument("--ef", type=int, nargs="+", default=[40, 100, EF_SEARCH])
    syn.set_defaults(run=synthetic)
    dem = sub.add_parser("demo")
    dem.add_argument("--shops", type=int, default=50)
    dem.add_argument("--ros", type=int, default=36_000)
    dem.add_argument("--seconds", type=float, default=15)
    dem.add_argument("--ef", type=int, nargs="+", default=[EF_SEARCH])
    dem.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    dem.add_argument("--reuse", metavar="DATABASE", help="measure a kept database, no load")
    dem.set_defaults(run=demo)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
