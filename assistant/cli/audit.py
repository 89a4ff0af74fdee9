"""`ro-assistant audit …`: verify the hash chain, anchor its head, export the log."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.audit import anchor
from assistant.audit import service as audit_service
from assistant.cli.common import load_keyring, run_with_database
from assistant.db.session import Database
from assistant.settings import Settings
from assistant.tenants import service
from assistant.tenants.service import admin_context, find_tenant


@click.group()
def audit() -> None:
    """The audit log of every PII access."""


@audit.command()
@click.option("--tenant", "slug", default=None, help="Only this shop (default: every shop).")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also check the chain against this anchor (from `audit anchor`); needs --tenant.",
)
@click.pass_obj
def verify(settings: Settings, slug: str | None, anchor_file: Path | None) -> None:
    """Walk each shop's hash chain and name the first row that was changed or removed."""
    if anchor_file is not None:
        if slug is None:
            raise click.UsageError("--anchor needs --tenant: an anchor belongs to one shop")
        _verify_anchored(settings, slug, anchor_file)
        return

    async def job(db: Database) -> bool:
        shops = [await find_tenant(db, slug)] if slug else await service.list_tenants(db)
        intact = True
        for shop in shops:
            async with db.transaction(admin_context(shop)) as session:
                report = await audit_service.verify(session)
            intact &= report.ok
            click.echo(
                f"{shop.slug}: {report.rows} rows, "
                + ("chain intact" if report.ok else f"BROKEN: {report.problem}")
            )
        return intact

    if not run_with_database(settings, job):
        raise SystemExit(1)


def _verify_anchored(settings: Settings, slug: str, anchor_file: Path) -> None:
    ring = load_keyring(settings)

    async def job(db: Database) -> audit_service.ChainReport:
        shop = await find_tenant(db, slug)
        async with db.transaction(admin_context(shop)) as session:
            return await anchor.verify_against(session, ring, shop.tenant_id, the_anchor)

    try:
        the_anchor = anchor.load(anchor_file.read_text(errors="replace"))
        report = run_with_database(settings, job)
    except anchor.AnchorRefused as exc:
        raise click.ClickException(f"{slug}: anchor refused: {exc}") from None
    if not report.ok:
        click.echo(f"{slug}: {report.rows} rows, BROKEN: {report.problem}")
        raise SystemExit(1)
    click.echo(f"{slug}: {report.rows} rows, chain intact, matches anchor at row {the_anchor.seq}")


@audit.command("anchor")
@click.option("--tenant", "slug", required=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@click.pass_obj
def anchor_command(settings: Settings, slug: str, output: Path | None) -> None:
    """Sign the shop's chain head with the key ring, if the chain is intact; keep the
    anchor outside the database, where its owner cannot rewrite it with the log."""
    ring = load_keyring(settings)

    async def job(db: Database) -> tuple[audit_service.ChainReport, anchor.Anchor | None]:
        shop = await find_tenant(db, slug)
        async with db.transaction(admin_context(shop)) as session:
            return await anchor.take(session, ring, shop.tenant_id, shop.slug)

    report, signed = run_with_database(settings, job)
    if signed is None:
        raise click.ClickException(
            f"{slug}: {report.rows} rows, BROKEN: {report.problem}; no anchor taken"
        )
    if output is None:
        click.echo(signed.to_json(), nl=False)
    else:
        output.write_text(signed.to_json())
        click.echo(f"wrote {output}: {signed.tenant} at row {signed.seq}")


@audit.command()
@click.option("--tenant", "slug", required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@click.pass_obj
def export(settings: Settings, slug: str, fmt: str, output: Path | None) -> None:
    """Export a shop's audit log (it names ROs and fields, never PII values)."""

    async def job(db: Database) -> str:
        shop = await find_tenant(db, slug)
        async with db.transaction(admin_context(shop)) as session:
            items = await audit_service.rows(session, audit_service.AuditFilter())
        return audit_service.to_csv(items) if fmt == "csv" else audit_service.to_jsonl(items)

    text = run_with_database(settings, job)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")
