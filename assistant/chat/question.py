"""A question, read once: what every later step of a turn (search, the choice of answer,
the answer itself) reads, so nothing parses or resolves the question a second time.

Reading it takes the typed text (already parsed and scrubbed of customer details), the
earlier turns a follow-up leans on, and any filters the caller gave explicitly. VINs and
plates become blind-index filters, placeholders the vehicles or customers they stand for,
and the shop's own names (models, technicians, months) become signals or filters as
`retrieval.understanding` decides.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.auth.caller import Caller
from assistant.db.session import Database
from assistant.pii import blind_index
from assistant.pii.keyring import KeyRing
from assistant.pii.markers import PLACEHOLDER
from assistant.repair_orders import repository as ros
from retrieval import query, understanding
from retrieval.embedders import Embedder
from retrieval.search import Filters, Mode, SearchResult, Signals, search
from retrieval.tokens import count_tokens

FOLLOW_UP = re.compile(
    r"(?i)\b(it|its|it's|that|this|those|these|them|they|same|again|also|there|else)\b"
    r"|^\s*(and|what about|how about|anything else)\b"
)
# "what else…", "the time before": a follow-up about something other than what was just said
_OTHER = re.compile(r"(?i)\b(else|other|another|before|earlier|previous|prior|first)\b")
# "which of those", "the blue one", "what year were they": the whole list the last answer
# gave, not its first vehicle ("it", "that car").
_LIST = re.compile(r"(?i)\b(those|these|they|them|ones)\b|\bthe\s+[\w-]+\s+one\b")
_ORDINAL = re.compile(r"(?i)\bthe\s+(first|second|third|fourth|last)\s+one\b")
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}
_ESTIMATE = re.compile(r"(?i)\b(estimate|quote)\b|\bhow much (?:would|will|to|for|is)\b")


class AnswerKind(StrEnum):
    ESTIMATE = "estimate"
    EXTRACTIVE = "extractive"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Earlier:
    """One earlier turn of the conversation: the question as stored, and the ROs its
    answer cited (the first is "it" in the next question)."""

    question: str
    cited: tuple[str, ...] = ()
    lines: tuple[tuple[str, str | None], ...] = ()  # (RO number, line letter) cited


def earlier_turns(history: Sequence[Any]) -> list[Earlier]:
    """Stored messages (oldest first) as earlier turns: each user question with the ROs the
    answer after it cited."""
    turns: list[Earlier] = []
    for message in history:
        if message.role == "user":
            turns.append(Earlier(message.content))
        elif message.role == "assistant" and turns and message.status == "complete":
            cited = [c for c in message.citations if c.get("ro_number")]
            turns[-1] = Earlier(
                turns[-1].question,
                tuple(str(c["ro_number"]) for c in cited),
                tuple((str(c["ro_number"]), c.get("line")) for c in cited),
            )
    return turns


@dataclass(frozen=True, slots=True)
class Question:
    parsed: query.ParsedQuestion  # the typed text, parsed once
    stored: str  # what is kept and quoted: customer details as placeholders
    searched: query.ParsedQuestion  # what is embedded and matched (with follow-up context)
    filters: Filters = field(default_factory=Filters)
    signals: Signals = field(default_factory=Signals)
    follow_up: bool = False
    kind: AnswerKind = AnswerKind.EXTRACTIVE
    already_said: frozenset[tuple[str, str | None]] = frozenset()  # for "what else…"

    @property
    def scrubbed(self) -> query.ParsedQuestion:
        """The typed question (its VIN or RO number names the vehicle), with the stored
        words: an estimate reads the work from what the user asked, not from earlier turns."""
        return dataclasses.replace(self.parsed, text=PLACEHOLDER.sub(" ", self.stored).strip())


def with_context(
    parsed: query.ParsedQuestion, stored: str, earlier: Sequence[Earlier], budget: int
) -> tuple[query.ParsedQuestion, list[str]]:
    """What is searched: the stored text without placeholders, and for a follow-up ("and
    the brakes on it?") the earlier questions it leans on, newest first, within `budget`
    tokens. Their RO numbers and codes join the question's own; nothing is parsed again."""
    own = PLACEHOLDER.sub(" ", stored).strip() or parsed.text
    leaned_on: list[str] = []
    used = count_tokens(own)
    if FOLLOW_UP.search(own):
        for turn in reversed(earlier):
            cost = count_tokens(turn.question)
            if used + cost > budget:
                break
            leaned_on.append(turn.question)
            used += cost
    parts = [own, *(PLACEHOLDER.sub(" ", text) for text in leaned_on)]
    context = " ".join(parts[1:])
    return (
        dataclasses.replace(
            parsed,
            text=" ".join(parts),
            ro_numbers=tuple(
                dict.fromkeys([*parsed.ro_numbers, *query.RO_NUMBER.findall(context)])
            ),
            trouble_codes=tuple(
                dict.fromkeys(
                    [
                        *parsed.trouble_codes,
                        *(c.upper() for c in query.TROUBLE_CODE.findall(context)),
                    ]
                )
            ),
            code_tokens=tuple(
                dict.fromkeys(
                    [*parsed.code_tokens, *(a or b for a, b in query.CODE_TOKEN.findall(context))]
                )
            )[:20],
        ),
        leaned_on,
    )


async def read(
    session: AsyncSession,
    ring: KeyRing,
    tenant_id: UUID,
    parsed: query.ParsedQuestion,
    stored: str,
    *,
    earlier: Sequence[Earlier] = (),
    filters: Filters | None = None,
    budget: int = 200,
    model_configured: bool = False,
) -> Question:
    searched, leaned_on = with_context(parsed, stored, earlier, budget)
    follow_up = bool(leaned_on)
    # A vehicle or customer named in an earlier question a follow-up leans on counts too.
    found = [(m[1], m[2]) for text in (stored, *leaned_on) for m in PLACEHOLDER.finditer(text)]
    vehicle_ros = [ro for ro, name in found if name in {"vin", "license_plate"}]
    vins, plates = await ros.vehicle_keys(session, tenant_id, vehicle_ros)
    customer_ros = await ros.customer_ro_ids(session, found)
    explicit = filters or Filters()
    explicit = dataclasses.replace(
        explicit,
        ro_numbers=explicit.ro_numbers or searched.ro_numbers,
        ro_ids=explicit.ro_ids + customer_ros,
        vin_bidx=explicit.vin_bidx
        + vins
        + tuple(k for v in parsed.vins if (k := blind_index.vin_index(ring, tenant_id, v))),
        plate_bidx=explicit.plate_bidx
        + plates
        + tuple(k for p in parsed.plates if (k := blind_index.plate_index(ring, tenant_id, p))),
    )
    understood = await understanding.understand(
        session,
        tenant_id,
        searched,
        explicit,
        lambda p: blind_index.plate_index(ring, tenant_id, p),
    )
    signals = understood.signals
    filters = understood.filters
    if follow_up and not filters.selective:
        referred, one = await _referred_to(session, tenant_id, stored, earlier)
        if one:  # "the second one" names an RO as surely as its number would
            filters = dataclasses.replace(filters, ro_ids=referred)
        else:
            signals = dataclasses.replace(signals, ro_ids=referred)
    if _ESTIMATE.search(stored):
        kind = AnswerKind.ESTIMATE
    else:
        kind = AnswerKind.MODEL if model_configured else AnswerKind.EXTRACTIVE
    already = (
        frozenset(earlier[-1].lines)
        if follow_up and earlier and _OTHER.search(PLACEHOLDER.sub(" ", stored))
        else frozenset()
    )
    return Question(
        parsed=parsed,
        stored=stored,
        searched=searched,
        filters=filters,
        signals=signals,
        follow_up=follow_up,
        kind=kind,
        already_said=already,
    )


async def _referred_to(
    session: AsyncSession, tenant_id: UUID, stored: str, earlier: Sequence[Earlier]
) -> tuple[tuple[UUID, ...], bool]:
    """The ROs a follow-up points at in the last answer that cited any, and whether it
    picked exactly one: one of its list by position ("the second one"), the whole list
    ("which of those was a 2023?"), or else the vehicle of its first RO ("it")."""
    last = next((turn.cited for turn in reversed(earlier) if turn.cited), ())
    listed = list(dict.fromkeys(last))
    if not listed:
        return (), False
    own = PLACEHOLDER.sub(" ", stored)
    if (ordinal := _ORDINAL.search(own)) is not None:
        index = _ORDINALS[ordinal[1].lower()]
        if index < len(listed):
            return await ros.ro_ids_by_numbers(session, tenant_id, [listed[index]]), True
    if _LIST.search(own) and len(listed) > 1:
        return await ros.ro_ids_by_numbers(session, tenant_id, listed), False
    return await ros.same_vehicle_ro_ids(session, tenant_id, listed[:1]), False


async def retrieve(
    session: AsyncSession,
    embedder: Embedder,
    tenant_id: UUID,
    question: Question,
    k: int = 10,
    mode: Mode = Mode.HYBRID,
    *,
    exact: bool = False,
) -> SearchResult:
    return await search(
        session,
        embedder,
        tenant_id,
        question.searched,
        question.filters,
        k,
        mode,
        question.signals,
        exact=exact,
    )


async def search_as(
    db: Database,
    ring: KeyRing,
    embedder: Embedder,
    caller: Caller,
    text: str,
    filters: Filters | None = None,
    k: int = 10,
    mode: Mode = Mode.HYBRID,
    *,
    earlier: Sequence[Earlier] = (),
    exact: bool = False,
) -> SearchResult:
    """A search as a user outside a conversation (the CLI, the eval): the question is read
    the same way a chat turn reads it, minus the audited customer lookups."""
    parsed = query.parse(text)
    async with db.transaction(caller.ctx) as session:
        question = await read(
            session,
            ring,
            caller.ctx.tenant_id,
            parsed,
            parsed.text,
            earlier=earlier,
            filters=filters,
        )
        return await retrieve(
            session, embedder, caller.ctx.tenant_id, question, k, mode, exact=exact
        )
