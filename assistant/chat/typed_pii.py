"""Customer details in what users type: taken out before anything is stored or sent on.

The question parser already replaces what detectors recognise (VINs, emails, formatted
phones, cards, plates next to "plate"). What it cannot see is the shop's own customers:
a bare plate ("ABC1234"), a bare phone ("6025551234"), a name or a street. Those are
recognised through the blind index and the keyed customer-term index, never through a
clear-text copy. A detail that belongs to one of the shop's ROs becomes a placeholder of
that RO (so the asker's intent, "this customer's car", survives); anything else becomes a
typed marker such as `[PHONE]`. Placeholders in user text are never rendered with values.

Every lookup that can confirm a vehicle or a customer is audited and counted against a
per-user hourly budget, so the index cannot be used to guess VINs or customers in bulk.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import AuditEvent, Outcome, RequestMeta, record
from assistant.auth.caller import Caller
from assistant.db.session import Database
from assistant.errors import RateLimited, Unprocessable
from assistant.pii import blind_index, customer_terms
from assistant.pii.customer_terms import FIELD_OF, STREET_TYPES, TermKind
from assistant.pii.keyring import KeyRing
from assistant.pii.markers import neutralise, placeholder
from assistant.repair_orders import repository as ros
from retrieval import query
from retrieval.scrub import PiiKind
from retrieval.scrub import placeholder as typed_marker

LOOKUP_ACTION = "pii.lookup"
MAX_BARE_PLATES = 3
ONE_VEHICLE = "name one vehicle per question (at most one VIN and one plate)"

# Bounded, so no run of text makes them backtrack.
_PHONE_SEP = r"[\s.\-\u2010-\u2015/]"
_BARE_PHONE = re.compile(
    rf"(?<![\w\-/.])(?:\+?1{_PHONE_SEP}?)?\(?[2-9]\d{{2}}\)?{_PHONE_SEP}?\d{{3}}"
    rf"{_PHONE_SEP}?\d{{4}}(?![\w])"
)
_PLATE_LIKE = re.compile(r"(?<![\w\-\[])([A-Za-z0-9]{2,4}[\s\-]?[A-Za-z0-9]{2,4})(?![\w\-\]])")
_DTC = re.compile(r"(?i)[PBCU][0-3][0-9A-F]{3}")
_TOKEN = re.compile(r"[^\W_]{1,40}")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx"})


def check_vehicles(parsed: query.ParsedQuestion) -> None:
    if len(parsed.vins) > 1 or len(parsed.plates) > 1:
        raise Unprocessable(ONE_VEHICLE)


Span = tuple[int, int, str]  # start, end, replacement


def _taken(spans: list[Span], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e, _ in spans)


def parse_typed(text_: str) -> query.ParsedQuestion:
    """What a user typed, parsed, with any look-alike placeholder neutralised before and
    after (parsing takes characters out, which could bring one together). CPU work: run it
    off the event loop."""
    parsed = query.parse(neutralise(text_))
    return dataclasses.replace(parsed, text=neutralise(parsed.text))


def _plate_candidates(text_: str) -> list[re.Match[str]]:
    out = []
    for m in _PLATE_LIKE.finditer(text_):
        value = re.sub(r"[\s\-]", "", m.group(1))
        has_both = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
        if 5 <= len(value) <= 8 and has_both and not _DTC.fullmatch(value):
            out.append(m)
    return out[:MAX_BARE_PLATES]


@dataclass(slots=True)
class _Term:
    start: int
    end: int
    kind: TermKind
    digest: bytes


def _term_candidates(ring: KeyRing, caller: Caller, text_: str) -> list[_Term]:
    """Every way the text could name a customer: word pairs, capitalised surnames, a
    house number with up to four words after it, bare phone numbers. Initials and other
    one-letter words are skipped, as the index skips them."""
    secret = customer_terms.terms_key(ring, caller.ctx.tenant_id)
    tokens = [
        (m, w[0])
        for m in _TOKEN.finditer(text_)
        if len(w := customer_terms.words(m.group(0))) == 1 and len(w[0]) > 1
    ]
    found: list[_Term] = []

    def add(first: int, last: int, kind: TermKind, value: str) -> None:
        digest = customer_terms.keyed(secret, kind, value)
        found.append(_Term(tokens[first][0].start(), tokens[last][0].end(), kind, digest))

    for i, (match, word) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else None
        if nxt and not word.isdigit() and not nxt.isdigit():
            add(i, i + 1, TermKind.NAME, f"{word} {nxt}")
        raw = match.group(0)
        previous = tokens[i - 1][1] if i else None
        capitalised = raw[:1].isupper()
        if (
            len(word) >= 4
            and not word.isdigit()
            and word not in customer_terms.COMMON_WORDS
            and (capitalised or previous in _TITLES)
        ):
            add(i, i, TermKind.SURNAME, word)
        if word.isdigit() and len(word) <= 6:
            for last in range(i + 1, min(i + 5, len(tokens))):
                span = [w for _, w in tokens[i : last + 1]]
                street = customer_terms.street_key(span)
                ends = street.split()[-1] if street else None
                # The span ends at the street's last word or its type, never beyond.
                if street and (ends == span[-1] or (ends == span[-2] and span[-1] in STREET_TYPES)):
                    add(i, last, TermKind.STREET, street)
    for m in _BARE_PHONE.finditer(text_):
        digits = customer_terms.phone_digits(m.group(0))
        if digits:
            digest = customer_terms.keyed(secret, TermKind.PHONE, digits)
            found.append(_Term(m.start(), m.end(), TermKind.PHONE, digest))
    return found


SPENT = "too many vehicle and customer lookups in the last hour; try again later"


async def remaining_lookups(session: AsyncSession, budget: int) -> int:
    since = datetime.now(UTC) - timedelta(hours=1)
    used = (
        await session.execute(text("SELECT app.pii_lookups_since(:since)"), {"since": since})
    ).scalar_one()
    return budget - int(used)


def _refuse() -> RateLimited:
    return RateLimited(SPENT, retry_after=3600)


async def _audit(
    session: AsyncSession,
    caller: Caller,
    meta: RequestMeta,
    object_type: str,
    ro_number: str | None,
) -> None:
    await record(
        session,
        caller.ctx,
        AuditEvent(
            action=LOOKUP_ACTION,
            outcome=Outcome.ALLOWED if ro_number else Outcome.DENIED,
            object_type=object_type,
            object_id=ro_number,
            purpose="recognised in typed text" if ro_number else "no match in this shop",
        ),
        meta,
    )


async def scrub_typed(
    session: AsyncSession,
    ring: KeyRing,
    caller: Caller,
    parsed: query.ParsedQuestion,
    meta: RequestMeta,
    *,
    budget: int,
    markers_only: bool = False,
) -> str:
    """`parsed.text` with the shop's own customer details replaced.

    `markers_only` (titles) writes typed markers even for recognised details, since a
    title is shown as typed and never carries a reference to an RO.
    """
    tenant = caller.ctx.tenant_id
    text_ = parsed.text
    spans: list[Span] = []

    def mark(kind: PiiKind, field: str, ro_number: str | None) -> str:
        if ro_number and not markers_only:
            return placeholder(ro_number, field)
        return typed_marker(kind)

    explicit = [
        (PiiKind.VIN, "vin", blind_index.vin_index(ring, tenant, v)) for v in parsed.vins
    ] + [
        (PiiKind.LICENSE_PLATE, "license_plate", blind_index.plate_index(ring, tenant, p))
        for p in parsed.plates
    ]
    if markers_only:
        explicit = []  # already markers; a title never confirms a vehicle
    # Hundreds of keyed hashes for a long question: off the event loop.
    terms = await anyio.to_thread.run_sync(_term_candidates, ring, caller, text_)
    plates = [] if explicit or markers_only else _plate_candidates(text_)
    if not (explicit or terms or plates):
        return text_  # a bare phone is always a term, so nothing is left to mark
    # Decided before anything is looked up, whatever the text holds, so a refusal says
    # nothing about whether it names a customer.
    left = await remaining_lookups(session, budget)
    if left <= 0 or len(explicit) > left:
        raise _refuse()
    for kind, field, key in explicit:
        vin_key, plate_key = (key, None) if kind is PiiKind.VIN else (None, key)
        ro = await ros.latest_ro_number_for_vehicle(session, tenant, vin_key, plate_key)
        await _audit(session, caller, meta, "vehicle", ro)
        left -= 1
        marker = typed_marker(kind)
        at = text_.find(marker)
        if ro and at >= 0 and not _taken(spans, at, at + len(marker)):
            spans.append((at, at + len(marker), mark(kind, field, ro)))

    resolved: list[tuple[int, int, str, str, PiiKind]] = []
    vehicles: set[str] = set()
    for m in plates:
        key = blind_index.plate_index(ring, tenant, m.group(1))
        ro = await ros.latest_ro_number_for_vehicle(session, tenant, None, key)
        if ro:
            vehicles.add(ro)
            resolved.append((m.start(1), m.end(1), ro, "license_plate", PiiKind.LICENSE_PLATE))
    if len(vehicles) > 1:
        raise Unprocessable(ONE_VEHICLE)
    matches = await customer_terms.lookup(session, (t.digest for t in terms))
    kinds = {
        TermKind.NAME: PiiKind.CUSTOMER_NAME,
        TermKind.SURNAME: PiiKind.CUSTOMER_NAME,
        TermKind.STREET: PiiKind.ADDRESS,
        TermKind.PHONE: PiiKind.PHONE,
        TermKind.EMAIL: PiiKind.EMAIL,
    }
    # Longer matches first: "Dana Whitfield" wins over "Whitfield".
    for term in sorted(terms, key=lambda t: (-(t.end - t.start), t.start)):
        match = matches.get(term.digest)
        if match:
            field = FIELD_OF[term.kind]
            resolved.append((term.start, term.end, match.ro_number, field, kinds[term.kind]))
    chosen = []
    for start, end, ro, field, kind in resolved:
        if not _taken(spans, start, end):
            spans.append((start, end, mark(kind, field, ro)))
            chosen.append((ro, field))
    if len(chosen) > left:
        raise _refuse()  # every detail recognised is one lookup: no overshoot
    for ro, field in chosen:
        what = "vehicle" if field == "license_plate" else "customer"
        await _audit(session, caller, meta, what, ro)
    for m in _BARE_PHONE.finditer(text_):
        if not _taken(spans, m.start(), m.end()):
            spans.append((m.start(), m.end(), typed_marker(PiiKind.PHONE)))
    return query.replace_spans(text_, spans)


async def vehicle_lookup_on_record(
    db: Database, ring: KeyRing, caller: Caller, meta: RequestMeta, vin: str, budget: int
) -> None:
    """A VIN given to another endpoint (an estimate) is a lookup like one typed in a
    question: counted and audited, in its own transaction, so a 404 keeps its row too."""
    async with db.transaction(caller.ctx) as session:
        if await remaining_lookups(session, budget) <= 0:
            raise _refuse()
        key = blind_index.vin_index(ring, caller.ctx.tenant_id, vin)
        ro = await ros.latest_ro_number_for_vehicle(session, caller.ctx.tenant_id, key, None)
        await _audit(session, caller, meta, "vehicle", ro)
