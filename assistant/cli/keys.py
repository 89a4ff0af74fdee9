"""`ro-assistant keys …`: the key ring and re-encryption to its active key."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from assistant.audit.service import RequestMeta
from assistant.cli.common import load_keyring, run_with_database
from assistant.db.session import Database
from assistant.pii import customer_terms, keyring, rotation
from assistant.pii.keyring import KeyRing, KeyRingError
from assistant.settings import Settings
from assistant.tenants import service
from assistant.tenants.service import find_tenant


@click.group()
def keys() -> None:
    """Encryption keys for the PII vault and stored documents."""


@keys.command()
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Key ring file (default: RO_ASSISTANT_KEYRING_FILE or .data/keyring.json).",
)
@click.option("--if-missing", is_flag=True, help="Do nothing when the key ring already exists.")
@click.pass_obj
def generate(settings: Settings, path: str | None, if_missing: bool) -> None:
    """Create a key ring, or add a new active key to an existing one (then run `keys rotate`)."""
    if settings.keyring_json and path is None:
        raise KeyRingError(
            "RO_ASSISTANT_KEYRING is set: that key ring is managed outside; "
            "edit it there or pass --file"
        )
    file = settings.keyring_path if path is None else Path(path).resolve()
    if file.exists():
        if if_missing:
            return
        ring = keyring.load(None, file).with_new_active_key()
        keyring.save(ring, file)
        click.echo(
            f"added key {ring.active} to {file}; it is now active. "
            "Run `ro-assistant keys rotate` to re-encrypt existing rows."
        )
        return
    ring = KeyRing.generate()
    keyring.save(ring, file)
    click.echo(f"created key ring {file} (mode 600) with active key {ring.active}")


@keys.command()
@click.option("--tenant", "slug", default=None, help="Only this shop (default: every shop).")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def rotate(settings: Settings, slug: str | None, batch_size: int) -> None:
    """Re-encrypt every vault row and stored document to the active key, in batches."""
    ring = load_keyring(settings)

    async def job(db: Database) -> bool:
        shops = [await find_tenant(db, slug)] if slug else await service.list_tenants(db)
        all_ok = True
        for shop in shops:
            report = await rotation.rotate_tenant(db, ring, shop.tenant_id, batch_size=batch_size)
            all_ok &= report.ok
            click.echo(
                f"{shop.slug}: re-encrypted {report.rotated}, left on old keys "
                f"{report.remaining_on_old_keys}, verified {report.verified} rows decrypt"
                + (f", {report.undecryptable} DO NOT decrypt" if report.undecryptable else "")
            )
        return all_ok

    if not run_with_database(settings, job):
        raise SystemExit(1)


@keys.command("index-customers")
@click.option("--tenant", "slug", default=None, help="Only this shop (default: every shop).")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def index_customers(settings: Settings, slug: str | None, batch_size: int) -> None:
    """Rebuild the keyed customer-term index (names, streets, phones, emails typed in
    questions are recognised through it) from the vault, e.g. for shops ingested before
    it existed. Each RO read is audited."""
    ring = load_keyring(settings)

    async def job(db: Database) -> None:
        shops = [await find_tenant(db, slug)] if slug else await service.list_tenants(db)
        meta = RequestMeta(request_id=f"keys-index-customers-{uuid.uuid4().hex}")
        for shop in shops:
            count = await customer_terms.rebuild(
                db, ring, shop.tenant_id, meta, batch_size=batch_size
            )
            click.echo(f"{shop.slug}: indexed the customers of {count} ROs")

    run_with_database(settings, job)
