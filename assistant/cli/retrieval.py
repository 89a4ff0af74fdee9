"""`ro-assistant embedder export`, `reindex`, `search` and `eval`."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import click

from assistant.auth.caller import Caller, caller_by_email
from assistant.chat.question import Earlier, search_as
from assistant.cli.common import load_keyring, progress_bar, run_with_database
from assistant.db.session import Database
from assistant.embedding import embedder_for
from assistant.repair_orders import chunk_store
from assistant.settings import Settings
from assistant.tenants import service
from assistant.tenants.service import admin_context, find_tenant
from retrieval import embedders, evaluation
from retrieval.chunking import chunk_ro
from retrieval.query import QuestionError
from retrieval.search import LINE_STATUSES, FilterError, Filters, Mode, SearchResult

SEARCH_ERRORS = (QuestionError,)


@click.group()
def embedder() -> None:
    """The local embedding model."""


@embedder.command("export")
@click.option("--if-missing", is_flag=True, help="Do nothing when the ONNX file exists.")
@click.pass_obj
def export(settings: Settings, if_missing: bool) -> None:
    """Export all-MiniLM-L6-v2 to ONNX (at setup time; the service then never imports torch)."""
    target = embedders.onnx_path(settings.model_path)
    if if_missing and target.exists():
        return
    started = time.perf_counter()
    embedders.export_onnx(settings.model_path)
    click.echo(f"exported {target} in {time.perf_counter() - started:.1f} s")


@click.command()
@click.option("--tenant", "slug", default=None, help="Only this shop (default: every shop).")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def reindex(settings: Settings, slug: str | None, batch_size: int) -> None:
    """Rebuild every chunk and embedding (after changing the embedder or the chunking)."""
    model = embedder_for(settings)

    async def job(db: Database) -> list[str]:
        shops = [await find_tenant(db, slug)] if slug else await service.list_tenants(db)
        done: list[str] = []
        with progress_bar() as bar:
            for shop in shops:
                ctx = admin_context(shop)
                async with db.transaction(ctx) as session:
                    ids = await chunk_store.ro_ids(session, shop.tenant_id)
                task = bar.add_task(shop.slug, total=len(ids))
                chunks_written = 0
                for start in range(0, len(ids), batch_size):
                    batch = ids[start : start + batch_size]
                    async with db.transaction(ctx) as session:
                        views = await chunk_store.load_views(session, shop.tenant_id, batch)
                        chunks = [c for v in views for c in chunk_ro(v, model.count_tokens)]
                        vectors = model.embed([c.content for c in chunks])
                        await chunk_store.replace_chunks(
                            session, shop.tenant_id, batch, chunks, vectors, model.model_name
                        )
                    chunks_written += len(chunks)
                    bar.advance(task, len(batch))
                done.append(
                    f"{shop.slug}: {len(ids)} ROs, {chunks_written} chunks ({model.model_name})"
                )
        return done

    for line in run_with_database(settings, job):
        click.echo(line)


def _print_result(result: SearchResult, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "results": [
                        {
                            "ro_id": str(h.ro_id),
                            "ro_number": h.ro_number,
                            "line": h.line_letter,
                            "line_status": h.line_status,
                            "date": h.opened_on.isoformat() if h.opened_on else None,
                            "vehicle": h.vehicle,
                            "score": h.score,
                            "text": h.content,
                        }
                        for h in result.hits
                    ],
                    "trace": result.trace.as_dict(),
                },
                indent=2,
            )
        )
        return
    if not result.hits:
        click.echo("no matching repair orders in this shop")
    for rank, h in enumerate(result.hits, start=1):
        line = f" line {h.line_letter}" if h.line_letter else ""
        click.echo(
            f"{rank:>2}. RO {h.ro_number}{line} | {h.opened_on or '-'} | {h.vehicle} | "
            f"score {h.score:.4f}"
        )
        click.echo("    " + h.content.replace("\n", "\n    "))


@click.command("search")
@click.argument("question")
@click.option("--user", "email", required=True, help="Search as this user (their shop, role).")
@click.option("--tenant", "slug", default=None, help="The user's shop, if the email is in several.")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--mode", type=click.Choice([m.value for m in Mode]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--ro", "ro_numbers", multiple=True, help="Only these RO numbers.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(sorted(LINE_STATUSES)),
    help="Only lines with this status (e.g. declined).",
)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--tech", default=None, help="Technician name or code.")
@click.option("--year", type=click.IntRange(1886, 2100), default=None)
@click.option("--make", default=None)
@click.option("--model", "vehicle_model", default=None)
@click.pass_obj
def search_command(
    settings: Settings,
    question: str,
    email: str,
    slug: str | None,
    k: int,
    mode: str,
    as_json: bool,
    ro_numbers: tuple[str, ...],
    statuses: tuple[str, ...],
    date_from: datetime | None,
    date_to: datetime | None,
    tech: str | None,
    year: int | None,
    make: str | None,
    vehicle_model: str | None,
) -> None:
    """Search the user's shop's repair orders. VINs, plates and RO numbers in the question
    become filters; the options add more."""
    try:
        filters = Filters(
            ro_numbers=ro_numbers,
            line_status=statuses,
            technician=tech,
            year=year,
            make=make,
            model=vehicle_model,
            date_from=date_from.date() if date_from else None,
            date_to=date_to.date() if date_to else None,
        )
    except FilterError as exc:
        raise click.ClickException(str(exc)) from None
    ring = load_keyring(settings)
    model = embedder_for(settings)

    async def job(db: Database) -> SearchResult:
        caller = await caller_by_email(db, email, slug)
        return await search_as(db, ring, model, caller, question, filters, k=k, mode=Mode(mode))

    try:
        result = run_with_database(settings, job)
    except SEARCH_ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    _print_result(result, as_json)


EXACT = "exact"  # vector only, every chunk scanned: what the approximate search is held to


@click.command("eval")
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "email", required=True)
@click.option("--tenant", "slug", default=None)
@click.option(
    "--mode",
    type=click.Choice([*(m.value for m in Mode), EXACT, "all"]),
    default="all",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def eval_command(
    settings: Settings, questions_file: Path, email: str, slug: str | None, mode: str, as_json: bool
) -> None:
    """Recall@1/5/10, MRR and latency on a question set, per search mode (`exact`: vector
    search scanning every chunk). A follow-up's earlier questions are asked first, and the
    top RO of each stands for what its answer cited."""
    try:
        questions = evaluation.load(questions_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ring = load_keyring(settings)
    model = embedder_for(settings)
    modes = [*(m.value for m in Mode), EXACT] if mode == "all" else [mode]

    async def job(db: Database) -> dict[str, evaluation.Report]:
        caller: Caller = await caller_by_email(db, email, slug)
        reports = {}
        for name in modes:
            search_mode = Mode.VECTOR if name == EXACT else Mode(name)
            answers = []
            for q in questions:
                earlier: list[Earlier] = []
                for asked in q.context:
                    before = await search_as(
                        db, ring, model, caller, asked, k=1, mode=search_mode, earlier=earlier
                    )
                    earlier.append(Earlier(asked, tuple(h.ro_number for h in before.hits[:1])))
                started = time.perf_counter()
                result = await search_as(
                    db,
                    ring,
                    model,
                    caller,
                    q.question,
                    k=30,
                    mode=search_mode,
                    earlier=earlier,
                    exact=name == EXACT,
                )
                answers.append(
                    evaluation.Answer(
                        q,
                        evaluation.ranked_ros([h.ro_number for h in result.hits]),
                        (time.perf_counter() - started) * 1000,
                    )
                )
            reports[name] = evaluation.report(answers)
        return reports

    reports = run_with_database(settings, job)
    if as_json:
        click.echo(json.dumps({m: r.as_dict() for m, r in reports.items()}, indent=2))
        return
    click.echo(
        f"{'mode':<8} {'n':>4} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    for m, r in reports.items():
        click.echo(
            f"{m:<8} {r.answerable:>4} {r.recall[1]:>6.3f} {r.recall[5]:>6.3f} "
            f"{r.recall[10]:>6.3f} {r.mrr:>6.3f} {r.latency_p50_ms:>7.1f} "
            f"{r.latency_p95_ms:>7.1f}"
        )
