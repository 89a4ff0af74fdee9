"""Tenant-scoped hybrid search: cosine similarity over pgvector and BM25 full text (with
exact code matches), fused by score so strong evidence in one list survives, then ranked
up by what the question's words suggest (signals) without removing anything.

Chunks are partitioned by tenant, so a shop's search reads its own partition only. Within
it, a small shop (or any query narrowed by a selective filter) is searched exactly; a big
one goes through the partition's HNSW index. Every query runs under the caller's RLS
context and also names the tenant explicitly.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

import anyio
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from retrieval import shop_facts
from retrieval.embedders import DIMENSIONS, Embedder
from retrieval.query import ParsedQuestion

EXACT_BELOW_ROWS = 1_000  # below this a shop is scanned exactly: under 5 ms (bench)
# What the HNSW index holds (migration 0017); vector_sql orders by it so the index is used.
HALF_EMBEDDING = f"c.embedding::halfvec({DIMENSIONS})"
EF_SEARCH = 800  # bench/RESULTS.md, real text: recall@10 >= 0.997, none < 0.9, to 50,000 chunks
CANDIDATES = 50  # per ranked list, before fusion
MAX_K = 100
LINE_STATUSES = frozenset({"completed", "declined", "recommended", "in_progress"})


class Mode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    TEXT = "text"


class FilterError(ValueError):
    """A filter the search does not understand; nothing was searched."""


@dataclass(frozen=True, slots=True)
class Filters:
    ro_numbers: tuple[str, ...] = ()
    ro_ids: tuple[UUID, ...] = ()
    vin_bidx: tuple[bytes, ...] = field(default=(), repr=False)
    plate_bidx: tuple[bytes, ...] = field(default=(), repr=False)
    year: int | None = None
    make: str | None = None
    model: str | None = None
    color: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    technician: str | None = None
    line_status: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.line_status) - LINE_STATUSES
        if unknown:
            raise FilterError(f"unknown line status: {', '.join(sorted(unknown))}")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise FilterError("date_to is before date_from")

    @property
    def selective(self) -> bool:
        """Filters that leave a handful of ROs: then an exact scan of them is cheapest."""
        return bool(self.ro_numbers or self.ro_ids or self.vin_bidx or self.plate_bidx)

    @property
    def any(self) -> bool:
        return self != Filters()


@dataclass(frozen=True, slots=True)
class Signals:
    """What ordinary words in a question suggest: they rank matching ROs up and never remove
    one. "in park", "a side impact", "the miles" are as likely to be words as a technician or
    a model, and a signal that is wrong only costs a little order."""

    makes: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    year: int | None = None
    color: str | None = None
    technicians: tuple[str, ...] = ()  # codes
    date_from: date | None = None
    date_to: date | None = None
    ro_ids: tuple[UUID, ...] = ()  # a follow-up's "it": the ROs of the vehicle last cited

    @property
    def any(self) -> bool:
        return self != Signals()

    def names(self) -> list[str]:
        return [name for name in Signals.__slots__ if getattr(self, name)]


@dataclass(frozen=True, slots=True)
class Hit:
    chunk_id: UUID
    ro_id: UUID
    ro_number: str
    line_letter: str | None
    line_status: str | None
    opened_on: date | None
    vehicle: str
    kind: str
    content: str
    score: float
    vector_rank: int | None
    text_rank: int | None


@dataclass(slots=True)
class Trace:
    mode: str
    path: str = ""
    shop_rows: int = 0
    embed_ms: float = 0.0
    vector_ms: float = 0.0
    text_ms: float = 0.0
    total_ms: float = 0.0
    filters: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    trace: Trace


def _filter_sql(filters: Filters, params: dict[str, Any]) -> str:
    """Conditions on the chunk `c`, as EXISTS subqueries: the outer query stays a scan of
    the shop's chunk partition alone, which its HNSW index can serve in distance order."""
    on_ro: list[str] = []
    clauses: list[str] = []
    if filters.ro_numbers:
        on_ro.append("r.ro_number = ANY(:ro_numbers)")
        params["ro_numbers"] = list(filters.ro_numbers)
    if filters.ro_ids:
        clauses.append("c.ro_id = ANY(:ro_ids)")
        params["ro_ids"] = list(filters.ro_ids)
    vehicle_keys = [*filters.vin_bidx, *filters.plate_bidx]
    if vehicle_keys:
        on_ro.append("(r.vin_bidx = ANY(:vehicle_keys) OR r.plate_bidx = ANY(:vehicle_keys))")
        params["vehicle_keys"] = vehicle_keys
    for column, name, value in (
        ("vehicle_make", "make", filters.make),
        ("vehicle_model", "model", filters.model),
        ("vehicle_color", "color", filters.color),
    ):
        if value:
            on_ro.append(f"lower(r.{column}) = lower(:{name})")
            params[name] = value
    if filters.year is not None:
        on_ro.append("r.vehicle_year = :year")
        params["year"] = filters.year
    if filters.date_from:
        on_ro.append("r.ro_open_date >= :date_from")
        params["date_from"] = filters.date_from
    if filters.date_to:
        on_ro.append("r.ro_open_date <= :date_to")
        params["date_to"] = filters.date_to
    if on_ro:
        clauses.append(
            "EXISTS (SELECT 1 FROM app.repair_orders r WHERE r.tenant_id = c.tenant_id"  # noqa: S608 - fixed fragments, bound values
            " AND r.ro_id = c.ro_id AND " + " AND ".join(on_ro) + ")"
        )
    if filters.technician:
        clauses.append(
            "EXISTS (SELECT 1 FROM app.ro_labor_lines lb WHERE lb.tenant_id = c.tenant_id"
            " AND lb.ro_id = c.ro_id AND (lb.technician_code = :tech"
            " OR lower(lb.technician_name) = lower(:tech)))"
        )
        params["tech"] = filters.technician
    if filters.line_status:
        clauses.append(
            "EXISTS (SELECT 1 FROM app.ro_lines l WHERE l.tenant_id = c.tenant_id"
            " AND l.line_id = c.line_id AND l.status = ANY(:line_status))"
        )
        params["line_status"] = list(filters.line_status)
    return "".join(f" AND {c}" for c in clauses)


_FROM = " FROM app.ro_chunks c WHERE c.tenant_id = :tenant"
_HYDRATE_FROM = (
    " FROM app.ro_chunks c"
    " JOIN app.repair_orders r ON r.tenant_id = c.tenant_id AND r.ro_id = c.ro_id"
    " LEFT JOIN app.ro_lines l ON l.tenant_id = c.tenant_id AND l.line_id = c.line_id"
    " WHERE c.tenant_id = :tenant"
)
_VECTOR = bindparam("q", type_=Vector(DIMENSIONS))


BIG_SHOP_TTL_S = 60.0
_big_shops: shop_facts.Fact[bool] = shop_facts.Fact(BIG_SHOP_TTL_S)


async def shop_rows(session: AsyncSession, tenant_id: UUID, cap: int = EXACT_BELOW_ROWS) -> int:
    """The shop's chunk count, counted only up to `cap` (an index-only scan, sub-millisecond).
    A shop found big is taken as big for a minute: shops grow, and it saves a round trip."""
    if cap == EXACT_BELOW_ROWS and _big_shops.get(tenant_id):
        return cap
    result = await session.execute(
        text(
            "SELECT count(*) FROM (SELECT 1 FROM app.ro_chunks WHERE tenant_id = :tenant"
            " LIMIT :cap) s"
        ),
        {"tenant": tenant_id, "cap": cap},
    )
    rows = int(result.scalar_one())
    if cap == EXACT_BELOW_ROWS and rows >= cap:
        _big_shops.put(tenant_id, True)
    return rows


_YEARISH = re.compile(r"(19|20)\d\d|\d{1,3}")
_RECENT = re.compile(r"(?i)\b(last|latest|most recent|recently|newest)\b")


def _recency_ranks(rows: Sequence[Any]) -> dict[UUID, int]:
    """1 for the newest RO's chunks, 2 for the next, and so on."""
    dates = sorted({r[5] for r in rows if r[5]}, reverse=True)
    position = {d: i for i, d in enumerate(dates, start=1)}
    return {r[0]: position[r[5]] for r in rows if r[5]}


def choose_path(rows: int, filters: Filters) -> str:
    if filters.selective or rows < EXACT_BELOW_ROWS:
        return "exact"
    return "hnsw-filtered" if filters.any else "hnsw"


def vector_sql(path: str, filters: Filters, params: dict[str, Any]) -> str:
    where = _filter_sql(filters, params)
    if path == "exact":
        # Materialised, so the distances of exactly this shop's (filtered) chunks are
        # computed and sorted: no index, no approximation.
        return (
            "WITH candidates AS MATERIALIZED (SELECT c.chunk_id, c.embedding <=> :q AS distance"  # noqa: S608 - fixed fragments, bound values
            + _FROM
            + where
            + ") SELECT chunk_id, distance FROM candidates"
            " ORDER BY distance LIMIT :n"
        )
    # Ordered by the half-precision expression that the HNSW index holds (migration 0017);
    # the distance reported is still the full-precision one, as on the exact path.
    return (
        "SELECT c.chunk_id, c.embedding <=> :q AS distance"
        + _FROM
        + where
        + f" ORDER BY {HALF_EMBEDDING} <=> CAST(:q AS halfvec({DIMENSIONS})) LIMIT :n"
    )


def planner_settings(path: str, n: int) -> dict[str, str]:
    """Transaction-local planner settings for the vector query on `path`.

    On the unfiltered HNSW path sorting is switched off: for a partition of a few thousand chunks
    the planner's estimates favour reading and sorting the whole partition (an exact scan,
    10-16 ms measured) over its HNSW index (about 2 ms). Exact paths keep the default. Every
    query gets a plan of its own: after five runs of a prepared statement PostgreSQL may
    switch to a generic plan, which cannot know the shop and scans and sorts the whole
    partition (60 ms instead of 11 ms on a 10,000-chunk shop at ef_search 800).
    """
    return {
        "hnsw.ef_search": str(max(EF_SEARCH, n)),
        "hnsw.iterative_scan": "relaxed_order" if path == "hnsw-filtered" else "off",
        "enable_sort": "off" if path == "hnsw" else "on",
        "plan_cache_mode": "force_custom_plan",
    }


_PLANNER = text(
    "SELECT set_config('hnsw.ef_search', :ef, true),"
    " set_config('hnsw.iterative_scan', :iterative, true),"
    " set_config('enable_sort', :sort, true),"
    " set_config('plan_cache_mode', :plans, true)"
)


async def apply_planner_settings(session: AsyncSession, path: str, n: int) -> None:
    values = planner_settings(path, n)
    await session.execute(
        _PLANNER,
        {
            "ef": values["hnsw.ef_search"],
            "iterative": values["hnsw.iterative_scan"],
            "sort": values["enable_sort"],
            "plans": values["plan_cache_mode"],
        },
    )


async def _vector(
    session: AsyncSession,
    tenant_id: UUID,
    vector: Sequence[float],
    path: str,
    filters: Filters,
    n: int,
) -> list[tuple[UUID, float]]:
    params: dict[str, Any] = {"tenant": tenant_id, "q": vector, "n": n}
    rows = await session.execute(
        text(vector_sql(path, filters, params)).bindparams(_VECTOR), params
    )
    return [(UUID(str(r[0])), float(r[1])) for r in rows]


BM25_K1 = 1.2
BM25_B = 0.75
TEXT_STATS_TTL_S = 300.0
_shop_chunks: shop_facts.Fact[int] = shop_facts.Fact(TEXT_STATS_TTL_S)


async def _shop_chunk_count(session: AsyncSession, tenant_id: UUID) -> int:
    """BM25's N. It moves slowly, so it is counted (an index-only scan) every few minutes."""
    cached = _shop_chunks.get(tenant_id)
    if cached is not None:
        return cached
    result = await session.execute(
        text("SELECT count(*) FROM app.ro_chunks WHERE tenant_id = :tenant"), {"tenant": tenant_id}
    )
    docs = int(result.scalar_one())
    return _shop_chunks.put(tenant_id, docs)


def _allowed_chunks(filters: Filters, params: dict[str, Any]) -> tuple[str, str]:
    """With filters, the shop's chunks that pass them, worked out once (they are few when a
    filter names an RO or a vehicle), and the condition limiting postings to them."""
    where = _filter_sql(filters, params)
    if not where:
        return "", ""
    return (
        " allowed AS MATERIALIZED (SELECT c.chunk_id" + _FROM + where + "),",
        " AND t.chunk_id IN (SELECT chunk_id FROM allowed)",
    )


async def _english(
    session: AsyncSession, tenant_id: UUID, question: ParsedQuestion, filters: Filters, n: int
) -> list[tuple[UUID, float]]:
    """BM25 over the shop's posting list (app.ro_chunk_terms): only the postings of the
    question's own terms are read, never the chunks themselves unless a filter needs them.
    Term statistics are the whole shop's even under a filter, so a filtered search's scores
    compare with an unfiltered one's."""
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "q": question.text,
        "n": n,
        "docs": await _shop_chunk_count(session, tenant_id),
        "k1": BM25_K1,
        "b": BM25_B,
    }
    allowed, only_allowed = _allowed_chunks(filters, params)
    sql = (
        "WITH terms AS (SELECT DISTINCT lexeme AS term FROM unnest(to_tsvector('english', :q))),"  # noqa: S608 - fixed fragments, bound values
        + allowed
        + " p AS (SELECT t.tenant_id, t.chunk_id, t.term, t.tf, t.dl FROM app.ro_chunk_terms t"
        "  WHERE t.tenant_id = :tenant AND t.term IN (SELECT term FROM terms)),"
        " df AS (SELECT term, count(*)::float8 AS df FROM p GROUP BY term),"
        # The mean length of the chunks that hold the question's terms stands in for the
        # shop's: close enough for length normalisation, and free.
        " len AS (SELECT greatest(avg(dl), 1)::float8 AS avgdl FROM p)"
        " SELECT p.chunk_id, sum(ln(1 + (greatest(CAST(:docs AS float8), df.df) - df.df + 0.5)"
        "  / (df.df + 0.5))"
        "  * p.tf * (:k1 + 1) / (p.tf + :k1 * (1 - :b + :b * p.dl / len.avgdl))) AS score"
        " FROM p JOIN df USING (term) CROSS JOIN len WHERE true"
        + only_allowed.replace("t.chunk_id", "p.chunk_id")
        + " GROUP BY p.chunk_id ORDER BY score DESC LIMIT :n"
    )
    rows = await session.execute(text(sql), params)
    return [(UUID(str(r[0])), float(r[1])) for r in rows]


async def _codes(
    session: AsyncSession, tenant_id: UUID, question: ParsedQuestion, filters: Filters, n: int
) -> list[tuple[UUID, float]]:
    """Trouble codes, part numbers, op codes and RO numbers, matched exactly: the parser
    keeps such tokens whole, and they are looked up with the posting list's own ('english')
    configuration; a chunk's rank is the share of the question's code lexemes it holds."""
    if not question.code_tokens:
        return []
    params: dict[str, Any] = {"tenant": tenant_id, "n": n, "codes": " ".join(question.code_tokens)}
    allowed, only_allowed = _allowed_chunks(filters, params)
    sql = (
        "WITH codes AS (SELECT DISTINCT lexeme AS term"  # noqa: S608 - fixed fragments, bound values
        " FROM unnest(to_tsvector('english', :codes))),"
        + allowed
        + " hits AS (SELECT t.chunk_id FROM app.ro_chunk_terms t"
        "  WHERE t.tenant_id = :tenant AND t.term IN (SELECT term FROM codes)"
        + only_allowed
        + ") SELECT chunk_id, count(*)::float8 / (SELECT count(*) FROM codes) AS rank"
        " FROM hits GROUP BY chunk_id ORDER BY rank DESC LIMIT :n"
    )
    rows = await session.execute(text(sql), params)
    return [(UUID(str(r[0])), float(r[1])) for r in rows]


@dataclass(frozen=True, slots=True)
class TextHit:
    chunk_id: UUID
    bm25: float
    code_share: float  # share of the question's codes the chunk holds verbatim; 0 if none


async def _text(
    session: AsyncSession, tenant_id: UUID, question: ParsedQuestion, filters: Filters, n: int
) -> list[TextHit]:
    """English BM25, and exact code matches, which rank above any prose match."""
    prose = dict(await _english(session, tenant_id, question, filters, n))
    codes = dict(await _codes(session, tenant_id, question, filters, n))
    hits = [TextHit(c, prose.get(c, 0.0), codes.get(c, 0.0)) for c in {**prose, **codes}]
    hits.sort(key=lambda h: (-(h.code_share > 0), -h.code_share, -h.bm25))
    return hits[:n]


async def search(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: UUID,
    question: ParsedQuestion,
    filters: Filters | None = None,
    k: int = 10,
    mode: Mode = Mode.HYBRID,
    signals: Signals | None = None,
    *,
    exact: bool = False,
) -> SearchResult:
    """`exact` scans every chunk instead of the index: the reference an approximate search
    is measured against."""
    filters = filters or Filters()
    signals = signals or Signals()
    k = max(1, min(k, MAX_K))
    trace = Trace(
        mode=mode.value,
        filters=[name for name in Filters.__slots__ if getattr(filters, name)],
        signals=signals.names(),
    )
    started = time.perf_counter()
    n = max(CANDIDATES, k)
    trace.shop_rows = await shop_rows(session, tenant_id)
    trace.path = "exact" if exact else choose_path(trace.shop_rows, filters)
    vector: list[float] | None = None
    if mode is not Mode.TEXT:
        t0 = time.perf_counter()
        vector = (await anyio.to_thread.run_sync(embedder.embed, [question.text]))[0].tolist()
        trace.embed_ms = (time.perf_counter() - t0) * 1000
    vector_hits, text_hits = await _ranked_lists(
        session, tenant_id, question, vector, filters, trace.path, n, mode, trace
    )
    narrowed = signal_filters(filters, signals)
    extra_vector: list[tuple[UUID, float]] = []
    extra_text: list[TextHit] = []
    if narrowed != filters:
        # What the signals point at is searched too, so a matching RO that the whole shop's
        # lists ranked below the cut still gets its chance, scored on the same scale; the
        # signal bonus below does the rest.
        path = "exact" if exact else choose_path(trace.shop_rows, narrowed)
        extra_vector, extra_text = await _ranked_lists(
            session, tenant_id, question, vector, narrowed, path, n, mode
        )
    scores, ranks = fuse(vector_hits, text_hits, extra_vector, extra_text)
    hits = await _hydrate(session, tenant_id, scores, ranks, question, signals)
    trace.total_ms = (time.perf_counter() - started) * 1000
    return SearchResult(hits[:k], trace)


async def _ranked_lists(
    session: AsyncSession,
    tenant_id: UUID,
    question: ParsedQuestion,
    vector: list[float] | None,
    filters: Filters,
    path: str,
    n: int,
    mode: Mode,
    trace: Trace | None = None,
) -> tuple[list[tuple[UUID, float]], list[TextHit]]:
    vector_hits: list[tuple[UUID, float]] = []
    text_hits: list[TextHit] = []
    if vector is not None:
        await apply_planner_settings(session, path, n)
        t0 = time.perf_counter()
        vector_hits = await _vector(session, tenant_id, vector, path, filters, n)
        if trace:
            trace.vector_ms = (time.perf_counter() - t0) * 1000
        if path == "hnsw":
            await session.execute(text("SELECT set_config('enable_sort', 'on', true)"))
    if mode is not Mode.VECTOR:
        t0 = time.perf_counter()
        text_hits = await _text(session, tenant_id, question, filters, n)
        if trace:
            trace.text_ms = (time.perf_counter() - t0) * 1000
    return vector_hits, text_hits


def signal_filters(filters: Filters, signals: Signals) -> Filters:
    """The signals taken together as filters, for the extra search of what they point at."""
    if not signals.any or filters.selective:
        return filters
    if signals.ro_ids:
        return dataclasses.replace(filters, ro_ids=signals.ro_ids)
    return dataclasses.replace(
        filters,
        make=filters.make or (signals.makes[0] if signals.makes else None),
        model=filters.model or (signals.models[0] if signals.models else None),
        year=filters.year or signals.year,
        color=filters.color or signals.color,
        technician=filters.technician or (signals.technicians[0] if signals.technicians else None),
        date_from=filters.date_from or signals.date_from,
        date_to=filters.date_to or signals.date_to,
    )


VECTOR_WEIGHT = 0.5  # bench/RESULTS.md: 0.4-0.6 within 0.01 on both question sets


def fuse(
    vector_hits: Sequence[tuple[UUID, float]],
    text_hits: Sequence[TextHit],
    extra_vector: Sequence[tuple[UUID, float]] = (),
    extra_text: Sequence[TextHit] = (),
) -> tuple[dict[UUID, float], dict[UUID, list[int | None]]]:
    """Each list's scores scaled to 0-1 and added with weights (a convex combination).

    Unlike reciprocal-rank fusion this keeps how far ahead a hit is: a line that full text
    matches word for word, far above the rest, is not outranked by lines that were merely
    mediocre in both lists. Cosine similarity is scaled between the list's worst and best;
    BM25 between 0 and its best, so a list whose best is weak stays weak; an exact code match
    counts above any prose. `extra_*` (a search narrowed by the question's signals) are
    scored on the main lists' scale.
    """
    ranks: dict[UUID, list[int | None]] = {}
    scores: dict[UUID, float] = {}
    if vector_hits:
        best = 1.0 - vector_hits[0][1]
        floor = 1.0 - vector_hits[-1][1]
        spread = best - floor
        for rank, (chunk_id, _) in enumerate(vector_hits, start=1):
            ranks.setdefault(chunk_id, [None, None])[0] = rank
        for chunk_id, distance in {**dict(extra_vector), **dict(vector_hits)}.items():
            scaled = (1.0 - distance - floor) / spread if spread > 0 else 1.0
            scores[chunk_id] = VECTOR_WEIGHT * min(max(scaled, 0.0), 1.0)
    if text_hits:
        best_bm25 = max(h.bm25 for h in text_hits) or 1.0

        def value(h: TextHit) -> float:
            return h.bm25 / best_bm25 + (1.0 + h.code_share if h.code_share else 0.0)

        top = max(value(h) for h in text_hits)
        for rank, h in enumerate(text_hits, start=1):
            ranks.setdefault(h.chunk_id, [None, None])[1] = rank
        merged = {h.chunk_id: h for h in extra_text} | {h.chunk_id: h for h in text_hits}
        for chunk_id, h in merged.items():
            share = min(value(h) / top, 1.0)
            scores[chunk_id] = scores.get(chunk_id, 0.0) + (1.0 - VECTOR_WEIGHT) * share
    for chunk_id in scores:
        ranks.setdefault(chunk_id, [None, None])
    return scores, ranks


CODE_BONUS = 0.5  # a code named and found verbatim: as much as first place in one list
RECENT_BONUS = 0.5
SIGNAL_BONUS = 0.15  # per name the RO matches: a model, make, technician, year or colour
DATE_BONUS = 0.5  # a month or year asked for is rarely an ordinary word
FOLLOW_UP_BONUS = 0.5  # "it" in a follow-up: the vehicle the last answer was about


def _signal_bonus(signals: Signals, row: Any) -> float:
    make, model, year, color, opened, techs = row[9], row[10], row[11], row[12], row[5], row[13]
    matched = 0
    if signals.models and (model or "").lower() in {m.lower() for m in signals.models}:
        matched += 1
    if signals.makes and (make or "").lower() in {m.lower() for m in signals.makes}:
        matched += 1
    if signals.year is not None and year == signals.year:
        matched += 1
    if signals.color and (color or "").lower() == signals.color.lower():
        matched += 1
    if signals.technicians and set(techs or ()) & set(signals.technicians):
        matched += 1
    dated = (
        (signals.date_from or signals.date_to)
        and opened
        and (signals.date_from is None or opened >= signals.date_from)
        and (signals.date_to is None or opened <= signals.date_to)
    )
    bonus = SIGNAL_BONUS * matched + (DATE_BONUS if dated else 0.0)
    return bonus + (FOLLOW_UP_BONUS if row[1] in signals.ro_ids else 0.0)


async def _hydrate(
    session: AsyncSession,
    tenant_id: UUID,
    scores: dict[UUID, float],
    ranks: dict[UUID, list[int | None]],
    question: ParsedQuestion,
    signals: Signals,
) -> list[Hit]:
    if not scores:
        return []
    technicians = (
        "(SELECT array_agg(DISTINCT lb.technician_code) FROM app.ro_labor_lines lb"
        " WHERE lb.tenant_id = c.tenant_id AND lb.ro_id = c.ro_id)"
        if signals.technicians
        else "NULL::text[]"
    )
    result = await session.execute(
        text(
            "SELECT c.chunk_id, c.ro_id, r.ro_number, l.line_letter, l.status, r.ro_open_date,"
            " concat_ws(' ', r.vehicle_year, r.vehicle_make, r.vehicle_model), c.kind, c.content,"
            " r.vehicle_make, r.vehicle_model, r.vehicle_year, r.vehicle_color, "
            + technicians
            + _HYDRATE_FROM
            + " AND c.chunk_id = ANY(:ids)"
        ),
        {"tenant": tenant_id, "ids": list(scores)},
    )
    hits = []
    codes = {
        c.lower()
        for c in (*question.trouble_codes, *question.code_tokens)
        if not _YEARISH.fullmatch(c)
    }
    rows = list(result)
    recency = _recency_ranks(rows) if _RECENT.search(question.text) else {}
    for r in rows:
        score = scores[r[0]]
        # A code, part number or op code the question names, found verbatim in the chunk,
        # counts like a first place; "last time" questions favour newer ROs; what the
        # question's words suggest (a model, a technician, a month) ranks its ROs up.
        content = r[8].lower()
        score += CODE_BONUS * sum(1 for code in codes if code in content)
        if r[0] in recency:
            score += RECENT_BONUS / recency[r[0]]
        if signals.any:
            score += _signal_bonus(signals, r)
        vector_rank, text_rank = ranks[r[0]]
        hits.append(
            Hit(
                chunk_id=r[0],
                ro_id=r[1],
                ro_number=r[2],
                line_letter=r[3],
                line_status=r[4],
                opened_on=r[5],
                vehicle=r[6],
                kind=r[7],
                content=r[8],
                score=round(score, 6),
                vector_rank=vector_rank,
                text_rank=text_rank,
            )
        )
    hits.sort(key=lambda h: (-h.score, h.ro_number, h.line_letter or ""))
    return hits
