"""`ro-assistant audit …`: verify the hash chain, export the log."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.audit import service as audit_service
from assistant.cli.common import run_with_database
from assistant.db.session import Database
from assistant.settings import Settings
from assistant.tenants import service
from assistant.tenants.service import admin_context, find_tenant


@click.group()
def audit() -> None:
    """The audit log of every PII access."""


@audit.command()
@click.option("--tenant", "slug", default=None, help="Only this shop (default: every shop).")
@click.pass_obj
def verify(settings: Settings, slug: str | None) -> None:
    """Walk each shop's hash chain and name the first row that was changed or removed."""

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
