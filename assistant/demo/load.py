"""Loading the demo shops: tenants, one user per role, and generated repair orders.

It goes through the same ingest path as real files, so the demo exercises validation,
scrubbing, sealing and blind indexes exactly as production data would. Running it again
changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from assistant.db.session import Database, Role
from assistant.demo.generator import generate_shop_records, shop_profile
from assistant.ingest.service import IngestReport, ingest_bytes
from assistant.pii.keyring import KeyRing
from assistant.tenants import service
from assistant.tenants.repository import Tenant
from assistant.tenants.service import UnknownTenant
from retrieval.embedders import Embedder

DEMO_ROLES = (("admin", Role.ADMIN), ("tech", Role.TECH), ("advisor", Role.PII_APPROVED))


@dataclass(frozen=True, slots=True)
class DemoLogin:
    slug: str
    email: str
    role: Role
    password: str


@dataclass(frozen=True, slots=True)
class ShopLoad:
    tenant: Tenant
    report: IngestReport


def demo_logins(slug: str) -> list[DemoLogin]:
    """Fixed, printed credentials: this data is fictional and the server listens on loopback."""
    return [
        DemoLogin(slug, f"{name}@{slug}.example", role, f"{slug}-{name}-demo")
        for name, role in DEMO_ROLES
    ]


async def ensure_shop(db: Database, slug: str, name: str) -> Tenant:
    try:
        tenant = await service.find_tenant(db, slug)
    except UnknownTenant:
        tenant = await service.create_tenant(db, slug, name)
    existing = {u.email for u in await service.list_users(db, tenant)}
    for login in demo_logins(slug):
        if login.email not in existing:
            await service.create_user(db, tenant, login.email, login.role, login.password)
    return tenant


async def load_demo(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    *,
    shops: int,
    ros_per_shop: int,
    seed: int,
    on_shop: Callable[[str, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ShopLoad]:
    loads: list[ShopLoad] = []
    for index in range(shops):
        profile = shop_profile(index, seed=seed)
        tenant = await ensure_shop(db, profile.slug, profile.name)
        records = generate_shop_records(index, ros_per_shop, seed=seed)
        if on_shop is not None:
            on_shop(profile.slug, len(records))
        content = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode()
        report = await ingest_bytes(
            db,
            ring,
            embedder,
            tenant.tenant_id,
            f"demo-{profile.slug}.jsonl",
            content,
            progress=progress,
        )
        loads.append(ShopLoad(tenant, report))
    return loads
