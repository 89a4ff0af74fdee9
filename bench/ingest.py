"""Ingest throughput against the embedder's own, measured in the same run.

    .venv/bin/python -P bench/ingest.py [--count 3000] [--batch-size N]

Demo ROs go through the real ingest path (validation, scrubbing, sealing, chunking, local
embedding, the database writes) on a fresh database of the embedded server (or the one in
DATABASE_URL), as the application role, with a throwaway key ring. The chunk texts that
ingest stores are also embedded on their own, embedding only, in one call: once before the
ingest and once after, so a machine busy with other work shows as two different rates. The
ratio of ingest's chunk rate to the embedder's (their mean) is the figure to watch (target
0.85 or more).

CPU seconds are reported too (this process, and the database backends when the server runs
on this machine): on a shared machine they say more than wall time about what the work
costs, and ingest's CPU beyond the embedder's own is everything that is not embedding.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import func, select

from assistant import logging
from assistant.db import conninfo, migrate
from assistant.db import tables as t
from assistant.db.embedded import EmbeddedPostgres
from assistant.db.session import Database, DbContext, Role
from assistant.demo.generator import generate_shop_records
from assistant.embedding import embedder_for
from assistant.ingest import prepare, readers
from assistant.ingest.service import ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.settings import Settings
from assistant.tenants.service import create_tenant
from retrieval.embedders import Embedder

TARGET = 0.85
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Timing:
    wall: float = 0.0
    cpu: float = 0.0  # this process, every thread


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    yield timing
    timing.wall, timing.cpu = time.perf_counter() - wall, time.process_time() - cpu


def backend_cpu(owner: str, database: str) -> float | None:
    """CPU seconds of the database's backends so far, if the server runs on this machine."""
    with psycopg.connect(owner, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            )
        ]
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def chunk_texts(
    ring: KeyRing, tenant_id: uuid.UUID, embedder: Embedder, content: bytes
) -> list[str]:
    """The chunk texts ingest will store, from the same preparation it runs."""
    raws = readers.parse("bench.jsonl", content).records
    candidates, _ = prepare.check(ring, tenant_id, list(enumerate(raws)))
    return [
        chunk.content
        for c in candidates
        for chunk in prepare.prepare(ring, tenant_id, embedder.count_tokens, c, uuid.uuid4()).chunks
    ]


async def run(count: int, batch_size: int | None) -> None:
    settings = Settings.from_env()
    logging.configure("WARNING")
    if settings.embedded:
        EmbeddedPostgres(settings.data_dir).start()
    owner, app = conninfo.owner_url(settings), conninfo.app_url(settings)
    name = f"ro_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    options: dict[str, Any] = {}
    if batch_size is not None and "batch_size" in inspect.signature(ingest_bytes).parameters:
        options["batch_size"] = batch_size
    try:
        migrate.migrate(
            conninfo.with_database(owner, name), settings.migrations_dir, echo=lambda _: None
        )
        db = Database(conninfo.with_database(app, name))
        try:
            ring = KeyRing.generate()
            embedder = embedder_for(settings)
            embedder.embed(["warm up the embedding session"] * 8)
            shop = await create_tenant(db, "bench-shop", "Bench Shop")
            started = time.perf_counter()
            records = generate_shop_records(0, count)
            generated = time.perf_counter() - started
            content = "".join(json.dumps(r) + "\n" for r in records).encode()
            texts = chunk_texts(ring, shop.tenant_id, embedder, content)
            load = [os.getloadavg()[0]]
            with timed() as alone_before:
                embedder.embed(texts)
            db_before = backend_cpu(owner, name)
            load.append(os.getloadavg()[0])
            with timed() as ingest:
                report = await ingest_bytes(
                    db, ring, embedder, shop.tenant_id, "bench.jsonl", content, **options
                )
            db_after = backend_cpu(owner, name)
            load.append(os.getloadavg()[0])
            with timed() as alone_after:
                embedder.embed(texts)
            load.append(os.getloadavg()[0])
            with timed() as again:
                unchanged = await ingest_bytes(
                    db, ring, embedder, shop.tenant_id, "bench.jsonl", content, **options
                )
            async with db.transaction(DbContext(shop.tenant_id, Role.ADMIN)) as session:
                stored = sorted((await session.execute(select(t.ro_chunks.c.content))).scalars())
                postings = (
                    await session.execute(select(func.count()).select_from(t.ro_chunk_terms))
                ).scalar_one()
        finally:
            await db.dispose()
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    assert stored == sorted(texts), "the embedder alone did not see the texts ingest stored"
    chunks = len(texts)
    alone = [chunks / alone_before.wall, chunks / alone_after.wall]
    standalone = sum(alone) / 2
    ratio = chunks / ingest.wall / standalone
    print(f"generated {count} demo ROs in {generated:.1f} s (not counted)")
    print(
        f"ingest: {report.summary()} in {ingest.wall:.1f} s = {count / ingest.wall:.1f} ROs/s,"
        f" {chunks / ingest.wall:.1f} chunks/s ({chunks} chunks, {postings} postings)"
    )
    print(
        f"embedder alone, the same {chunks} chunk texts: {standalone:.1f} chunks/s"
        f" (before ingest {alone[0]:.1f}, after {alone[1]:.1f})"
    )
    print(
        f"ingest / embedder: {ratio:.2f} (target {TARGET:.2f}: "
        + ("met" if ratio >= TARGET else "not met")
        + f"); load average before, during, after: {', '.join(f'{x:.1f}' for x in load)}"
    )
    alone_cpu = (alone_before.cpu + alone_after.cpu) / 2
    db_cpu = db_after - db_before if db_before is not None and db_after is not None else None
    print(
        f"CPU per chunk: embedder alone {1000 * alone_cpu / chunks:.1f} ms;"
        f" ingest {1000 * ingest.cpu / chunks:.1f} ms in this process"
        + (f" + {1000 * db_cpu / chunks:.1f} ms in the database" if db_cpu is not None else "")
        + (
            f" (embedding {alone_cpu / (ingest.cpu + db_cpu):.0%} of it)"
            if db_cpu is not None
            else ""
        )
    )
    print(
        f"re-ingest identical: {unchanged.summary()} in {again.wall:.1f} s"
        f" = {count / again.wall:.0f} ROs/s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=None, help="ROs per transaction")
    args = parser.parse_args()
    asyncio.run(run(args.count, args.batch_size))
