"""Tenant size does not change recall: a shop with 1% of all chunks and one with 30% each get
k results through the approximate path that match an exact search, and the plans say how."""

from __future__ import annotations

import os
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pytest
from pgvector.psycopg import register_vector
from sqlalchemy import text

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


async def test_plans_read_one_partition_by_its_own_index_or_exactly(
    app_db: Database, shops: dict[str, tuple[Tenant, Any]]
) -> None:
    big, _ = shops["big"]
    small, _ = shops["small"]
    big_part = "ro_chunks_" + big.tenant_id.hex
    small_part = "ro_chunks_" + small.tenant_id.hex
    hnsw_plan = await explain(app_db, big, "hnsw")
    assert f"Index Scan using {big_part}_embedding_idx on {big_part}" in hnsw_plan
    assert hnsw_plan.count("ro_chunks_") == hnsw_plan.count(big_part)
    exact_plan = await explain(app_db, small, "exact")
    assert "CTE Scan on candidates" in exact_plan
    assert "Sort" in exact_plan
    assert "embedding_idx" not in exact_plan
    assert small_part in exact_plan
    assert big_part not in exact_plan
