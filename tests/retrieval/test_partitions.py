"""Tenant size does not change recall: a shop with 1% of all chunks and one with 30% each get
k results through the approximate path that match an exact search, and the plans say how.

Shops share 64 hash partitions (migration 0021); a big shop's searches read its own graph,
a partial index built by `shop_graphs` (the `db index-shops` job), and nothing else."""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pytest
from pgvector.psycopg import register_vector
from sqlalchemy import text

from assistant.db import shop_graphs
from assistant.db.session import Database, DbContext, Role
from assistant.tenants.repository import Tenant
from assistant.tenants.service import create_tenant
from retrieval import search
from retrieval.search import Filters, choose_path, shop_rows, vector_sql
from tests.conftest import DatabaseUrls
from tests.db.seed import set_context

pytestmark = pytest.mark.anyio
TOTAL = 10_000
SHARES = {"small": 0.01, "big": 0.30, "rest": 0.69}
K = 10
PARTITION = re.compile(r"\bro_chunks_h\d\d\b")


def clustered(rng: np.random.Generator, n: int, centers: npt.NDArray[np.float32]) -> Any:
    """Points around topic centres, like embeddings of repair stories (not uniform noise)."""
    picks = rng.integers(0, len(centers), n)
    points = centers[picks] + rng.normal(0, 0.35, (n, centers.shape[1])).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def fill(app_url: str, shop: Tenant, vectors: Any) -> None:
    ro_id, doc_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(app_url) as conn:
        register_vector(conn)
        set_context(conn, shop.tenant_id, "ADMIN")
        conn.execute(
            "INSERT INTO app.documents (doc_id, tenant_id, filename, mime_type, sha256)"
            " VALUES (%s, %s, 'synthetic', 'text/plain', %s)",
            [doc_id, shop.tenant_id, os.urandom(32)],
        )
        conn.execute(
            "INSERT INTO app.repair_orders (ro_id, tenant_id, doc_id, ro_number)"
            " VALUES (%s, %s, %s, 'S1')",
            [ro_id, shop.tenant_id, doc_id],
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO app.ro_chunks (tenant_id, ro_id, kind, content, embedding,"
                " embedding_model, token_count) VALUES (%s, %s, 'header', %s, %s, 'synthetic', 1)",
                [(shop.tenant_id, ro_id, f"chunk {i}", v) for i, v in enumerate(vectors)],
            )


@pytest.fixture(scope="module")
async def shops(migrated: DatabaseUrls) -> dict[str, tuple[Tenant, Any]]:
    db = Database(migrated.app_url)
    rng = np.random.default_rng(7)
    centers = rng.normal(0, 1, (40, 384)).astype(np.float32)
    out: dict[str, tuple[Tenant, Any]] = {}
    try:
        for name, share in SHARES.items():
            shop = await create_tenant(db, f"size-{name}-{uuid.uuid4().hex[:6]}", name)
            vectors = clustered(rng, int(TOTAL * share), centers)
            fill(migrated.app_url, shop, vectors)
            out[name] = (shop, clustered(rng, 15, centers))
    finally:
        await db.dispose()
    with psycopg.connect(migrated.owner_url, autocommit=True) as conn:
        shop_graphs.run_pass(conn)
        conn.execute("ANALYZE app.ro_chunks")  # what autovacuum does after a bulk load
    return out


async def nearest(db: Database, shop: Tenant, query: Any, path: str) -> list[uuid.UUID]:
    async with db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.TECH)) as s:
        return [
            cid
            for cid, _ in await search._vector(
                s, shop.tenant_id, query.tolist(), path, Filters(), K
            )
        ]


@pytest.mark.parametrize("name", ["small", "big"])
async def test_approximate_path_matches_exact_search(
    app_db: Database, shops: dict[str, tuple[Tenant, Any]], name: str
) -> None:
    shop, queries = shops[name]
    async with app_db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.TECH)) as s:
        rows = await shop_rows(s, shop.tenant_id)
    path = choose_path(rows, Filters())
    assert path == ("exact" if name == "small" else "hnsw")
    matched = 0
    for query in queries:
        approx = await nearest(app_db, shop, query, path)
        exact = await nearest(app_db, shop, query, "exact")
        assert len(approx) == min(K, int(TOTAL * SHARES[name]))
        matched += len(set(approx) & set(exact))
    assert matched / (K * len(queries)) >= 0.98


async def explain(db: Database, shop: Tenant, path: str) -> str:
    params: dict[str, Any] = {"tenant": shop.tenant_id, "q": [0.05] * 384, "n": K}
    sql = vector_sql(path, Filters(), params)
    async with db.transaction(DbContext(tenant_id=shop.tenant_id, role=Role.TECH)) as s:
        await search.apply_planner_settings(s, path, K)  # as the service runs it
        rows = await s.execute(text("EXPLAIN " + sql).bindparams(search._VECTOR), params)
        return "\n".join(r[0] for r in rows)


def partition_of(owner_url: str, shop: Tenant) -> str:
    with psycopg.connect(owner_url) as conn:
        set_context(conn, shop.tenant_id, "ADMIN")
        row = conn.execute(
            "SELECT tableoid::regclass::text FROM app.ro_chunks WHERE tenant_id = %s LIMIT 1",
            [shop.tenant_id],
        ).fetchone()
    assert row is not None
    return str(row[0]).removeprefix("app.")


async def test_plans_read_one_partition_by_the_shops_own_graph_or_exactly(
    app_db: Database, migrated: DatabaseUrls, shops: dict[str, tuple[Tenant, Any]]
) -> None:
    big, _ = shops["big"]
    small, _ = shops["small"]
    big_part = partition_of(migrated.owner_url, big)
    small_part = partition_of(migrated.owner_url, small)
    hnsw_plan = await explain(app_db, big, "hnsw")
    graph = shop_graphs.index_name(big.tenant_id)
    assert f"Index Scan using {graph} on {big_part}" in hnsw_plan
    assert set(PARTITION.findall(hnsw_plan)) == {big_part}
    exact_plan = await explain(app_db, small, "exact")
    assert "CTE Scan on candidates" in exact_plan
    assert "Sort" in exact_plan
    assert "hnsw" not in exact_plan
    assert set(PARTITION.findall(exact_plan)) == {small_part}


async def test_a_shop_is_searched_exactly_until_the_job_gives_it_a_graph(
    app_db: Database, migrated: DatabaseUrls
) -> None:
    """The job's whole life cycle: nothing for a small shop, a graph once the shop is big
    (searches before it are exact and right), and a graph whose shop is gone dropped."""
    rng = np.random.default_rng(11)
    centers = rng.normal(0, 1, (40, 384)).astype(np.float32)
    shop = await create_tenant(app_db, f"growing-{uuid.uuid4().hex[:6]}", "growing")
    fill(migrated.app_url, shop, clustered(rng, search.EXACT_BELOW_ROWS + 200, centers))
    query = clustered(rng, 1, centers)[0]
    before = await nearest(app_db, shop, query, "hnsw")
    assert "hnsw" not in await explain(app_db, shop, "hnsw")
    assert before == await nearest(app_db, shop, query, "exact")
    ghost = shop_graphs.PREFIX + uuid.uuid4().hex  # a graph left by a shop that is gone
    partition = partition_of(migrated.owner_url, shop)
    with psycopg.connect(migrated.owner_url, autocommit=True) as conn:
        conn.execute(f"CREATE INDEX {ghost} ON app.{partition} (tenant_id) WHERE false")
        done = shop_graphs.run_pass(conn)
        again = shop_graphs.run_pass(conn)
        conn.execute(f"ANALYZE app.{partition}")
    assert shop_graphs.index_name(shop.tenant_id) in done.built
    assert ghost in done.dropped
    assert again.built == again.dropped == []
    assert f"Index Scan using {shop_graphs.index_name(shop.tenant_id)}" in await explain(
        app_db, shop, "hnsw"
    )


async def test_creating_a_shop_changes_no_schema(app_db: Database, migrated: DatabaseUrls) -> None:
    """No DDL and no lock on app.ro_chunks: at 10,000 shops a partition per shop took an
    exclusive lock for 180 ms per new shop (bench/RESULTS.md, Many shops)."""

    def relations() -> int:
        with psycopg.connect(migrated.owner_url) as conn:
            row = conn.execute("SELECT count(*) FROM pg_class").fetchone()
        assert row is not None
        return int(row[0])

    before = relations()
    await create_tenant(app_db, f"noddl-{uuid.uuid4().hex[:6]}", "no ddl")
    assert relations() == before
