"""What every estimate test on the demo shops needs: the demo keyring, the database as the
application role, the desert-auto shop and a draft computed in one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from assistant.db.session import Database, DbContext, Role
from assistant.estimates.drafts import EstimateDraft, EstimateRequest
from assistant.estimates.service import draft_estimate
from assistant.pii import keyring
from assistant.pii.keyring import KeyRing
from assistant.tenants.service import find_tenant
from tests.conftest import DemoService
from tests.samples import local_model


@pytest.fixture(scope="module")
def keys(demo_service: DemoService) -> KeyRing:
    return keyring.load(None, demo_service.work / "data" / "keyring.json")


@pytest.fixture
async def db(demo_service: DemoService) -> AsyncIterator[Database]:
    database = Database(demo_service.db.app_url)
    yield database
    await database.dispose()


@pytest.fixture
async def desert(db: Database) -> UUID:
    return (await find_tenant(db, "desert-auto")).tenant_id


async def draft(
    db: Database, keys: KeyRing, tenant: UUID, request: EstimateRequest
) -> EstimateDraft:
    async with db.transaction(DbContext(tenant_id=tenant, role=Role.TECH)) as session:
        return await draft_estimate(session, keys, local_model(), tenant, request)
