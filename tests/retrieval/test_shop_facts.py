"""The per-shop cache of catalogue facts is cleared by ingestion: a model or technician
just loaded is known to the next question, not five minutes later."""

from __future__ import annotations

import json

import pytest

from assistant.db.session import Database, DbContext, Role
from assistant.ingest.service import ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.tenants.repository import Tenant
from retrieval import understanding
from tests.samples import local_model, record

pytestmark = pytest.mark.anyio


async def _ingest(db: Database, ring: KeyRing, shop: Tenant, ro: str, model: str) -> None:
    r = record(ro_number=ro)
    r["vehicle"] = {**r["vehicle"], "make": "Ford", "model": model}
    content = json.dumps(r).encode()
    report = await ingest_bytes(db, ring, local_model(), shop.tenant_id, "ro.json", content)
    assert report.rejected == []


async def test_ingestion_clears_the_shops_cached_catalogue(
    app_db: Database, ring: KeyRing, shop: Tenant
) -> None:
    ctx = DbContext(tenant_id=shop.tenant_id, role=Role.TECH, user_id=None)
    await _ingest(app_db, ring, shop, "900001", "Ranger")
    async with app_db.transaction(ctx) as session:
        before = await understanding.catalog(session, shop.tenant_id)
    assert "ranger" in before.models
    assert "escape" not in before.models
    await _ingest(app_db, ring, shop, "900002", "Escape")
    async with app_db.transaction(ctx) as session:
        after = await understanding.catalog(session, shop.tenant_id)
    assert after.models["escape"] == (("Ford", "Escape"),)
