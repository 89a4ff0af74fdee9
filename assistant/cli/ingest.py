"""`ro-assistant ingest PATH… --tenant SLUG`.

A shop's first import can be years of ROs: a progress bar with the rate and time left
(on stderr, when it is a terminal), Ctrl-C to stop once the batch being written commits,
and the same command again to resume: whatever landed unchanged is skipped.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from assistant.cli.common import load_keyring, run_with_database
from assistant.db.session import Database
from assistant.embedding import embedder_for
from assistant.ingest import readers
from assistant.ingest.service import BATCH_SIZE, IngestReport, ingest_path
from assistant.pii.keyring import KeyRing
from assistant.settings import Settings
from assistant.tenants.service import find_tenant
from retrieval.embedders import Embedder

INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C


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


def _count_records(path: Path) -> int:
    """Records in a file, so the bar's total (and time left) covers every file from the start."""
    try:
        content = path.read_bytes()
    except OSError:
        return 0
    return len(readers.parse(path.name, content, readers.CLI_MAX_FILE_BYTES).records)


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} ROs/s", style="progress.data.speed")


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
        speed_estimate_period=120,
    )


@dataclass(slots=True)
class Run:
    report: IngestReport = field(default_factory=IngestReport)
    committed: int = 0  # records of committed batches, as progress heard of them
    seconds: float = 0.0
    aborted: bool = False

    def summary(self) -> str:
        if self.aborted:  # the aborted file's report is lost; what its batches committed is not
            said, done = f"{self.committed} records gone through", self.committed
        else:
            said, done = self.report.summary(), self.report.records
        rate = done / self.seconds if self.seconds > 0 else 0.0
        return f"{said} in {self.seconds:.1f} s ({rate:,.1f} ROs/s)"


@contextmanager
def _ctrl_c_stops(stop: asyncio.Event, console: Console) -> Iterator[None]:
    """First Ctrl-C: finish the batch being written, then stop. Second: abort it (its
    transaction rolls back, so no RO is ever half-written either way)."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def interrupted() -> None:
        if stop.is_set():
            if main is not None:
                main.cancel()
            return
        stop.set()
        console.print(
            "stopping once the batch being written commits (Ctrl-C again to abort it)",
            highlight=False,
        )

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _ingest_files(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    tenant_id: UUID,
    files: list[Path],
    counts: list[int],
    console: Console,
    run: Run,
    batch_size: int,
) -> None:
    stop = asyncio.Event()
    with _ctrl_c_stops(stop, console), progress_bar(console) as bar:
        task = bar.add_task("ingest", total=sum(counts))

        def committed(records: int) -> None:
            run.committed += records
            bar.advance(task, records)

        for number, file in enumerate(files):
            if stop.is_set():
                run.report.not_reached += sum(counts[number:])
                return
            bar.update(task, description=file.name)
            report = await ingest_path(
                db,
                ring,
                embedder,
                tenant_id,
                file,
                progress=committed,
                should_stop=stop.is_set,
                batch_size=batch_size,
                max_bytes=readers.CLI_MAX_FILE_BYTES,
            )
            run.report.add(report)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--tenant", "slug", required=True, help="The shop's slug.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=BATCH_SIZE,
    show_default=True,
    help="ROs per transaction (what Ctrl-C lets finish).",
)
@click.pass_obj
def ingest(settings: Settings, paths: tuple[Path, ...], slug: str, batch_size: int) -> None:
    """Ingest repair orders from JSON, JSON Lines, CSV or PDF files (or folders of them).

    Interrupted (Ctrl-C), it stops after the batch being written; run it again to resume.
    """
    ring = load_keyring(settings)
    embedder = embedder_for(settings)
    files = _expand(paths)
    console = Console(stderr=True)
    run = Run()

    async def job(db: Database) -> None:
        tenant = await find_tenant(db, slug)
        counts = [_count_records(file) for file in files]
        started = time.perf_counter()
        try:
            await _ingest_files(
                db, ring, embedder, tenant.tenant_id, files, counts, console, run, batch_size
            )
        except asyncio.CancelledError:
            run.aborted = True
        finally:
            run.seconds = time.perf_counter() - started

    run_with_database(settings, job)
    for rejection in run.report.rejected:
        click.echo(f"rejected {rejection.describe()}", err=True)
    click.echo(run.summary())
    if run.aborted or run.report.interrupted:
        what = "aborted (the batch being written was rolled back)" if run.aborted else "stopped"
        click.echo(f"{what}: run the same command again to resume", err=True)
        sys.exit(INTERRUPTED)
    if run.report.rejected:
        raise SystemExit(1)
