"""`ro-assistant ingest PATH… --tenant SLUG`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click
from rich.progress import (
    Progress,
    TaskID,
)

from assistant.cli.common import load_keyring, progress_bar, run_with_database
from assistant.db.session import Database
from assistant.embedding import embedder_for
from assistant.ingest import readers
from assistant.ingest.service import IngestReport, ingest_path
from assistant.settings import Settings
from assistant.tenants.service import find_tenant


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in readers.MIME_TYPES
                )
            )
        else:
            files.append(path)
    return files


def _set_total(bar: Progress, task: TaskID, total: int) -> None:
    bar.update(task, total=total)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--tenant", "slug", required=True, help="The shop's slug.")
@click.pass_obj
def ingest(settings: Settings, paths: tuple[Path, ...], slug: str) -> None:
    """Ingest repair orders from JSON, JSON Lines, CSV or PDF files (or folders of them)."""
    ring = load_keyring(settings)
    embedder = embedder_for(settings)
    files = _expand(paths)

    async def job(db: Database) -> IngestReport:
        tenant = await find_tenant(db, slug)
        total = IngestReport()
        with progress_bar() as bar:
            for file in files:
                task = bar.add_task(file.name, total=None)
                report = await ingest_path(
                    db,
                    ring,
                    embedder,
                    tenant.tenant_id,
                    file,
                    on_total=partial(_set_total, bar, task),
                    progress=partial(bar.advance, task),
                )
                total.add(report)
        return total

    report = run_with_database(settings, job)
    for rejection in report.rejected:
        click.echo(f"rejected {rejection.describe()}", err=True)
    click.echo(report.summary())
    if report.rejected:
        raise SystemExit(1)
