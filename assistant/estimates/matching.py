"""The past lines each asked job is priced from, and how close they are to what was asked.

A job is looked for on the vehicle's window (same make and model, two model years either
side) first. Only when nothing there did that work is it looked for further out: the same
model in other years, then the make's other models. What is found there is a near match,
said as such; nothing found anywhere is said too. A line that did other work is never used.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

import anyio
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.estimates import repository as repo
from assistant.estimates.repository import LaborRow, LineRef, PartRow, Window
from assistant.estimates.work import Job, Vocabulary, did, words_of
from retrieval import query
from retrieval.embedders import Embedder
from retrieval.search import Filters, search

WINDOW_ROS = 1000  # newest ROs of a window the search looks at
SEARCH_K = 50
RELATIVE_CUTOFF = 0.6
MAX_LINES = 10


@dataclass(frozen=True, slots=True)
class JobMatch:
    job: Job
    match: str  # "exact", "near" or "none"
    reason: str | None
    lines: list[LineRef]
    labor: list[LaborRow]
    parts: list[PartRow]


def describe(window: Window) -> str:
    """'2017-2021 Toyota Camry', 'Toyota Camry' (any year) or 'Toyota' (any model)."""
    years = f"{window.years[0]}-{window.years[1]} " if window.years else ""
    return f"{years}{window.make} {window.model or ''}".strip()


def vehicles_of(make: str, lines: list[LineRef]) -> str:
    """'Toyota Camry (2012, 2014), Toyota RAV4 (2019)': where a near match came from."""
    years: dict[str, set[int]] = defaultdict(set)
    for line in lines:
        years[line.vehicle_model or ""].update([line.vehicle_year] if line.vehicle_year else [])
    return ", ".join(
        f"{make} {model}".strip() + (f" ({', '.join(map(str, sorted(found)))})" if found else "")
        for model, found in sorted(years.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )


async def match_job(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: UUID,
    job: Job,
    window: Window,
    vocabulary: Vocabulary,
) -> JobMatch:
    missing = f"no completed {job.asked} work on {describe(window)} on file"
    wider = [Window(window.make, window.model, None, outside=window)] if window.years else []
    if window.model is not None:
        same_model = Window(window.make, window.model, None)
        wider.append(Window(window.make, None, None, outside=same_model))
    for tier, searched in enumerate([window, *wider]):
        lines, labor, parts = await _lines_that_did(
            session, embedder, tenant_id, job, searched, vocabulary
        )
        if not lines:
            continue
        if tier == 0:
            return JobMatch(job, "exact", None, lines, labor, parts)
        where = vehicles_of(window.make, lines)
        reason = f"{missing}; near match: the same work on {where}"
        return JobMatch(job, "near", reason, lines, labor, parts)
    return JobMatch(job, "none", missing, [], [], [])


async def _lines_that_did(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: UUID,
    job: Job,
    window: Window,
    vocabulary: Vocabulary,
) -> tuple[list[LineRef], list[LaborRow], list[PartRow]]:
    """The past lines of the window that did the job, all of one set of operations.

    The search, confined to the window's completed lines, finds candidates; only those that
    did the job (`work.did`: its words among what the line billed and wrote it did) are
    kept. Their fused scores are reciprocal ranks, so a cutoff relative to the best of them
    (0.6) keeps the lines both the meaning and the words rank near the top. The lines are
    then grouped by their set of labor operations, and the set whose descriptions read
    closest to the job is priced: one job, one kind of past work.
    """
    ro_ids = await repo.window_ro_ids(session, tenant_id, window, WINDOW_ROS)
    if not ro_ids:
        return [], [], []
    filters = Filters(
        make=window.make, model=window.model, ro_ids=tuple(ro_ids), line_status=("completed",)
    )
    parsed = query.parse(job.asked)
    result = await search(session, embedder, tenant_id, parsed, filters, k=SEARCH_K)
    hits = [h for h in result.hits if h.kind == "line" and h.line_letter]
    found = await repo.completed_lines(session, tenant_id, window, {h.ro_id for h in hits})
    verified = {(line.ro_id, line.line_letter): line for line in found}
    ranked: dict[tuple[UUID, str], tuple[float, LineRef]] = {}
    for hit in hits:
        key = (hit.ro_id, hit.line_letter or "")
        if key in verified and key not in ranked:
            ranked[key] = (hit.score, verified[key])
    candidates = [line for _, line in ranked.values()]
    ids = [line.line_id for line in candidates]
    labor = await repo.labor(session, tenant_id, ids)
    parts = await repo.parts(session, tenant_id, ids)
    charged: dict[UUID, list[str]] = defaultdict(list)
    for line_id, description in [
        *((r.line_id, r.description) for r in labor),
        *((r.line_id, r.description) for r in parts),
    ]:
        charged[line_id].append(description or "")
    texts = [*(t for ts in charged.values() for t in ts), *(c.correction for c in candidates)]
    new = words_of(texts) - set(vocabulary.stems)
    if new:
        vocabulary = Vocabulary(
            {**vocabulary.stems, **await repo.stems(session, new)},
            vocabulary.work,
            vocabulary.positions,
            vocabulary.actions,
            vocabulary.compounds,
        )
    relevant = [
        (score, line)
        for score, line in ranked.values()
        if did(job, vocabulary, " ; ".join(charged[line.line_id]), line.correction)
    ]
    if not relevant:
        return [], [], []
    best = relevant[0][0]
    close = [(score, line) for score, line in relevant if score >= RELATIVE_CUTOFF * best]
    jobs: dict[UUID, frozenset[str]] = defaultdict(frozenset)
    for row in labor:
        jobs[row.line_id] |= {op_key(row)}
    priced = [(score, line) for score, line in close if line.line_id in jobs]
    if not priced:
        chosen = [close[0][1]]
    else:
        ops = await _closest_operations(embedder, job.asked, priced, labor, jobs)
        chosen = sorted(
            (line for _, line in priced if jobs[line.line_id] == ops),
            key=lambda line: (line.opened_on or dt.date.min, line.ro_number, line.line_letter),
            reverse=True,
        )[:MAX_LINES]
    kept = {line.line_id for line in chosen}
    return (
        chosen,
        [row for row in labor if row.line_id in kept],
        [row for row in parts if row.line_id in kept],
    )


async def _closest_operations(
    embedder: Embedder,
    asked: str,
    close: list[tuple[float, LineRef]],
    labor: list[LaborRow],
    jobs: dict[UUID, frozenset[str]],
) -> frozenset[str]:
    """Each set of operations scores three terms: its best line's search score relative to
    the best line (0.6 to 1), the cosine similarity of the job to its operation descriptions
    (about 0 to 0.9), and its share of the lines (0 to 1). The share is how often the shop
    did that work for these words: "brakes" reads closer to "Brake fluid exchange" than to
    "Replace front pads and rotors" for the model, but a shop that did pads and rotors three
    times for every fluid exchange means the pads by it."""
    named = {op_key(row): row.description or row.operation or "" for row in labor}
    support: dict[frozenset[str], float] = {}
    share: dict[frozenset[str], float] = defaultdict(float)
    for score, line in close:
        key = jobs[line.line_id]
        support[key] = max(support.get(key, 0.0), score / close[0][0])
        share[key] += 1 / len(close)
    candidates = list(support)
    texts = [asked, *("; ".join(sorted(named[op] for op in ops)) for ops in candidates)]
    vectors = await anyio.to_thread.run_sync(embedder.embed, texts)
    norms = np.linalg.norm(vectors, axis=1)
    similarity = (vectors[1:] @ vectors[0]) / np.maximum(norms[1:] * norms[0], 1e-12)
    totals = [
        support[ops] + float(sim) + share[ops]
        for ops, sim in zip(candidates, similarity, strict=True)
    ]
    return candidates[totals.index(max(totals))]


def normal(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def op_key(row: LaborRow) -> str:
    return row.operation or normal(row.description)
