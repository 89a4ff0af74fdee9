"""Batched ingest: a refused record costs only itself, and a stopped run resumes exactly."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from sqlalchemy import CursorResult, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from assistant.db import tables as t
from assistant.db.session import Database, DbContext, Role
from assistant.demo.generator import generate_shop_records
from assistant.ingest.service import IngestReport, Outcome, ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from assistant.tenants.service import create_tenant
from tests.samples import local_model, record

pytestmark = pytest.mark.anyio


def admin(shop: Tenant) -> DbContext:
    return DbContext(tenant_id=shop.tenant_id, role=Role.ADMIN)


def jsonl(records: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


async def count(db: Database, shop: Tenant, table: Any) -> int:
    async with db.transaction(admin(shop)) as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_record_the_database_refuses_mid_batch_is_rejected_alone(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    refused = record(ro_number="703")
    refused["lines"][0]["parts"][0]["description"] = "pad set\x00"  # PostgreSQL refuses NUL
    records = [record(ro_number=n) for n in ("700", "701", "702")]
    records += [refused, {"ro_number": "704"}]
    records += [record(ro_number=n) for n in ("705", "706")]
    report = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "mixed.jsonl", jsonl(records), batch_size=10
    )
    assert report.counts[Outcome.INGESTED] == 5
    assert [(r.position, r.ro_number) for r in report.rejected] == [
        ("mixed.jsonl:4", "703"),
        ("mixed.jsonl:5", "704"),
    ]
    assert report.rejected[0].reasons[0].startswith("the database refused it: ")
    assert "\x00" not in report.rejected[0].reasons[0]
    async with app_db.transaction(admin(shop)) as s:
        numbers = sorted((await s.execute(select(t.repair_orders.c.ro_number))).scalars())
        chunk_ros = set((await s.execute(select(t.ro_chunks.c.ro_id))).scalars())
        ro_ids = set((await s.execute(select(t.repair_orders.c.ro_id))).scalars())
        orphans = (
            await s.execute(
                text(
                    "SELECT (SELECT count(*) FROM app.ro_lines l WHERE NOT EXISTS"
                    "  (SELECT 1 FROM app.repair_orders r WHERE r.ro_id = l.ro_id))"
                    " + (SELECT count(*) FROM app.pii_vault v WHERE NOT EXISTS"
                    "  (SELECT 1 FROM app.repair_orders r WHERE r.ro_id = v.ro_id))"
                    " + (SELECT count(*) FROM app.customer_terms c WHERE NOT EXISTS"
                    "  (SELECT 1 FROM app.repair_orders r WHERE r.ro_id = c.ro_id))"
                )
            )
        ).scalar_one()
    assert numbers == ["700", "701", "702", "705", "706"]
    assert chunk_ros == ro_ids
    assert orphans == 0
    assert await count(app_db, shop, t.ro_lines) == 5 * 2
    assert await count(app_db, shop, t.ro_parts_lines) == 5 * 2
    assert await count(app_db, shop, t.pii_vault) == 5


async def test_the_posting_list_follows_chunks_in_and_out(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    """Filled once per statement and emptied by chunk (0020), it matches the chunks row for
    row, also after an update replaced an RO's chunks and a deleted RO took its own; nothing
    else may write it."""
    records = generate_shop_records(0, 6)
    await ingest_bytes(app_db, ring, local_model(), shop.tenant_id, "six.jsonl", jsonl(records))
    longer = next(r for r in records if len(r["lines"]) > 1)
    changed = longer | {"lines": longer["lines"][:1], "status": "reopened"}
    report = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "one.json", json.dumps(changed).encode()
    )
    assert report.counts[Outcome.UPDATED] == 1
    async with app_db.transaction(admin(shop)) as s:  # its chunks go by cascade
        gone = delete(t.repair_orders).where(t.repair_orders.c.ro_number == records[0]["ro_number"])
        deleted = cast(CursorResult[Any], await s.execute(gone))
        assert deleted.rowcount == 1
    async with app_db.transaction(admin(shop)) as s:
        expected = set(
            await s.execute(
                text(
                    "SELECT t.lexeme, c.chunk_id,"
                    " least(coalesce(array_length(t.positions, 1), 1), 32767), c.token_count"
                    " FROM app.ro_chunks c, unnest(c.fts_english) AS t"
                )
            )
        )
        postings = set(
            await s.execute(
                select(
                    t.ro_chunk_terms.c.term,
                    t.ro_chunk_terms.c.chunk_id,
                    t.ro_chunk_terms.c.tf,
                    t.ro_chunk_terms.c.dl,
                )
            )
        )
    assert len(expected) > 100
    assert postings == expected
    chunk_id = next(iter(postings))[1]
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction(admin(shop)) as s:
            await s.execute(
                insert(t.ro_chunk_terms).values(
                    tenant_id=shop.tenant_id, term="planted", chunk_id=chunk_id, tf=1, dl=1
                )
            )


async def shop_rows(db: Database, shop: Tenant) -> dict[str, Any]:
    """Everything ingest stores, without the ids and keyed values that differ per shop."""
    async with db.transaction(admin(shop)) as s:
        number = select(t.repair_orders.c.ro_id, t.repair_orders.c.ro_number).subquery()

        async def rows(query: Any) -> list[tuple[Any, ...]]:
            return sorted(tuple(r) for r in await s.execute(query))

        r, lines, labor = t.repair_orders, t.ro_lines, t.ro_labor_lines
        parts, chunks = t.ro_parts_lines, t.ro_chunks
        return {
            "ros": await rows(select(r.c.ro_number, r.c.vehicle_model, r.c.total_due)),
            "lines": await rows(
                select(number.c.ro_number, lines.c.line_letter, lines.c.complaint).join(
                    number, number.c.ro_id == lines.c.ro_id
                )
            ),
            "labor": await rows(
                select(number.c.ro_number, labor.c.operation, labor.c.hours).join(
                    number, number.c.ro_id == labor.c.ro_id
                )
            ),
            "parts": await rows(
                select(number.c.ro_number, parts.c.part_number, parts.c.quantity).join(
                    number, number.c.ro_id == parts.c.ro_id
                )
            ),
            "chunks": await rows(
                select(number.c.ro_number, chunks.c.kind, chunks.c.seq, chunks.c.content).join(
                    number, number.c.ro_id == chunks.c.ro_id
                )
            ),
            "vault": await count(db, shop, t.pii_vault),
            "terms": await count(db, shop, t.customer_terms),
            "postings": await count(db, shop, t.ro_chunk_terms),
            "documents": await count(db, shop, t.documents),
        }


async def test_a_stopped_ingest_resumes_to_exactly_the_rows_of_one_run(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    content = jsonl(generate_shop_records(1, 10))
    batches = 0

    def committed(n: int) -> None:
        nonlocal batches
        batches += 1

    first = await ingest_bytes(
        app_db,
        ring,
        local_model(),
        shop.tenant_id,
        "history.jsonl",
        content,
        batch_size=3,
        progress=committed,
        should_stop=lambda: batches >= 2,
    )
    assert (first.counts[Outcome.INGESTED], first.not_reached, first.interrupted) == (6, 4, True)
    assert await count(app_db, shop, t.repair_orders) == 6
    second = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "history.jsonl", content, batch_size=3
    )
    assert second.counts == {Outcome.INGESTED: 4, Outcome.UPDATED: 0, Outcome.UNCHANGED: 6}
    assert (second.rejected, second.interrupted) == ([], False)

    other = await create_tenant(app_db, f"{shop.slug}-whole", "Whole Run")
    whole = await ingest_bytes(
        app_db, ring, local_model(), other.tenant_id, "history.jsonl", content
    )
    assert whole.counts[Outcome.INGESTED] == 10
    resumed, uninterrupted = await shop_rows(app_db, shop), await shop_rows(app_db, other)
    assert len(resumed["ros"]) == 10
    assert resumed == uninterrupted


async def test_a_crash_while_the_next_batch_is_prepared_loses_only_that_work(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    """The batch being written still commits whole; a second run ingests the rest."""

    class Crash(RuntimeError):
        pass

    class FailingEmbedder:
        def __init__(self, calls_before_failing: int) -> None:
            inner = local_model()
            self.model_name, self.dimensions = inner.model_name, inner.dimensions
            self.max_tokens, self.count_tokens = inner.max_tokens, inner.count_tokens
            self._inner, self._left = inner, calls_before_failing

        def embed(self, texts: Any) -> Any:
            if self._left == 0:
                raise Crash
            self._left -= 1
            return self._inner.embed(texts)

    content = jsonl(generate_shop_records(2, 8))
    with pytest.raises(Crash):
        await ingest_bytes(
            app_db, ring, FailingEmbedder(2), shop.tenant_id, "h.jsonl", content, batch_size=3
        )
    stored = await count(app_db, shop, t.repair_orders)
    assert stored == 6  # the two batches written before the failure was met, whole
    report: IngestReport = await ingest_bytes(
        app_db, ring, local_model(), shop.tenant_id, "h.jsonl", content, batch_size=3
    )
    assert report.counts[Outcome.UNCHANGED] == stored
    assert report.counts[Outcome.INGESTED] == 8 - stored
    assert await count(app_db, shop, t.repair_orders) == 8
