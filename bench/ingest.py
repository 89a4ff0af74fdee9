"""Ingest throughput: demo ROs per second through the real ingest path (local embedding included).

    .venv/bin/python -P bench/ingest.py [--count 10000]

Runs on a fresh database of the embedded server (or the one in DATABASE_URL), as the
application role, with a throwaway key ring; generation time is reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import psycopg
from psycopg import sql

from assistant import logging
from assistant.db import conninfo, migrate
from assistant.db.embedded import EmbeddedPostgres
from assistant.db.session import Database
from assistant.demo.generator import generate_shop_records
from assistant.embedding import embedder_for
from assistant.ingest.service import ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.settings import Settings
from assistant.tenants.service import create_tenant


async def run(count: int) -> None:
    settings = Settings.from_env()
    logging.configure("WARNING")
    if settings.embedded:
        EmbeddedPostgres(settings.data_dir).start()
    owner, app = conninfo.owner_url(settings), conninfo.app_url(settings)
    name = f"ro_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        migrate.migrate(
            conninfo.with_database(owner, name), settings.migrations_dir, echo=lambda _: None
        )
        db = Database(conninfo.with_database(app, name))
        try:
            ring = KeyRing.generate()
            embedder = embedder_for(settings)
            shop = await create_tenant(db, "bench-shop", "Bench Shop")
            started = time.perf_counter()
            records = generate_shop_records(0, count)
            generated = time.perf_counter() - started
            content = "".join(json.dumps(r) + "\n" for r in records).encode()
            started = time.perf_counter()
            report = await ingest_bytes(db, ring, embedder, shop.tenant_id, "bench.jsonl", content)
            elapsed = time.perf_counter() - started
            again = time.perf_counter()
            unchanged = await ingest_bytes(
                db, ring, embedder, shop.tenant_id, "bench.jsonl", content
            )
            elapsed_again = time.perf_counter() - again
        finally:
            await db.dispose()
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    print(f"generated {count} demo ROs in {generated:.1f} s (not counted)")
    print(f"ingest: {report.summary()} in {elapsed:.1f} s = {count / elapsed:.0f} ROs/s")
    print(
        f"re-ingest identical: {unchanged.summary()} in {elapsed_again:.1f} s"
        f" = {count / elapsed_again:.0f} ROs/s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    asyncio.run(run(parser.parse_args().count))
