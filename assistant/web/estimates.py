"""The estimate page: a form for the vehicle and the work, the draft as a table.

The handlers call the same domain function as `POST /api/v1/estimates/draft`, with the same
rules (one way of naming the vehicle; a VIN is an audited lookup first). Nothing is kept on
the server between requests: "Download CSV" submits the page's own form again, to another
address, and the draft is computed afresh from it. No response repeats what was typed (a VIN
is customer data), except the form itself when a browser posts it without htmx. An estimate
answered in chat is shown from the draft stored with that answer.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy.exc
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.chat import conversations, typed_pii
from assistant.chat import repository as chat_repo
from assistant.errors import AppError, NotFound
from assistant.estimates.drafts import EstimateError, EstimateRequest, VehicleNotFound
from assistant.estimates.service import MAX_WORK_CHARS, draft_estimate
from assistant.web import session as web_session
from assistant.web.pages import FORM, PAGE, page

MAX_FIELD = 100
VIN_LENGTHS = (11, 24)  # as the JSON API accepts
YEARS = (1900, 2100)
NO_WORK = "Describe the work to price, e.g. 'front brakes' or 'oil change and tire rotation'."
NO_VEHICLE = "Name the vehicle: its year, make and model, an RO number or a VIN."
TWO_VEHICLES = (
    "Name the vehicle one way only: year, make and model; or an RO number; or a VIN. "
    "Clear the others."
)
BAD_YEAR = f"The model year is a number from {YEARS[0]} to {YEARS[1]}."
BAD_VIN = f"A VIN has {VIN_LENGTHS[0]} to {VIN_LENGTHS[1]} letters and digits."
NOT_FOUND = "No such vehicle in this shop's records: check the RO number or VIN."
NOT_STORABLE = "A value in the form cannot be used (a control character, or a number too large)."
LABELS = {"near": "Near match", "none": "No history", "same": "Priced with another job"}
IDENTIFIED = {"ro_number": "by its RO number", "vin": "by its VIN", "request": "as typed"}
CSV_COLUMNS = (
    "job",
    "match",
    "type",
    "code",
    "description",
    "hours",
    "quantity",
    "unit_price",
    "amount",
    "range_low",
    "range_high",
    "past_lines",
    "in_total",
    "source_ros",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class EstimateForm(msgspec.Struct):
    work: Annotated[str, msgspec.Meta(max_length=MAX_WORK_CHARS)] = ""
    year: Annotated[str, msgspec.Meta(max_length=MAX_FIELD)] = ""
    make: Annotated[str, msgspec.Meta(max_length=MAX_FIELD)] = ""
    model: Annotated[str, msgspec.Meta(max_length=MAX_FIELD)] = ""
    ro_number: Annotated[str, msgspec.Meta(max_length=MAX_FIELD)] = ""
    vin: Annotated[str, msgspec.Meta(max_length=MAX_FIELD)] = ""

    def given(self) -> dict[str, str]:
        """A field of only spaces is not filled in: the one-way rule counts what is left."""
        values = {name: getattr(self, name).strip() for name in self.__struct_fields__}
        return {name: value for name, value in values.items() if value}


class Refused(Exception):
    """Input the draft cannot be made from; shown on the page with its 4xx status."""

    def __init__(self, status: int, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = messages


def estimate_request(form: EstimateForm) -> EstimateRequest:
    """Every problem with the form at once, so one correction fixes them all."""
    fields = form.given()
    problems = []
    if not fields.get("work"):
        problems.append(NO_WORK)
    ways = [
        any(k in fields for k in ("year", "make", "model")),
        "ro_number" in fields,
        "vin" in fields,
    ]
    if sum(ways) == 0:
        problems.append(NO_VEHICLE)
    elif sum(ways) > 1:
        problems.append(TWO_VEHICLES)
    year: int | None = None
    if "year" in fields:
        try:
            year = int(fields["year"])
        except ValueError:
            year = None
        if year is None or not YEARS[0] <= year <= YEARS[1]:
            problems.append(BAD_YEAR)
    vin = fields.get("vin")
    if vin is not None and not VIN_LENGTHS[0] <= len(vin) <= VIN_LENGTHS[1]:
        problems.append(BAD_VIN)
    if problems:
        raise Refused(422, problems)
    return EstimateRequest(
        work=fields["work"],
        year=year,
        make=fields.get("make"),
        model=fields.get("model"),
        ro_number=fields.get("ro_number"),
        vin=vin,
    )


async def compute(
    state: State, caller: Caller, meta: RequestMeta, form: EstimateForm
) -> dict[str, Any]:
    """The draft as the JSON API returns it, or `Refused` with what to correct."""
    request = estimate_request(form)
    try:
        if request.vin:
            await typed_pii.vehicle_lookup_on_record(
                state.database,
                state.ring,
                caller,
                meta,
                request.vin,
                state.settings.pii_lookups_per_hour,
            )
        async with state.database.transaction(caller.ctx) as session:
            draft = await draft_estimate(
                session, state.ring, state.embedder, caller.ctx.tenant_id, request
            )
    except VehicleNotFound:
        raise Refused(404, [NOT_FOUND]) from None
    except EstimateError as exc:
        raise Refused(422, [_sentence(str(exc))]) from None
    except AppError as exc:
        raise Refused(exc.status, [_sentence(exc.message)]) from None
    except sqlalchemy.exc.DataError:
        raise Refused(400, [NOT_STORABLE]) from None
    return draft.as_dict()


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def money(value: Any) -> str:
    return f"${_decimal(value):,.2f}"


def number(value: Any) -> str:
    """'1.50' reads 1.5 and '2.00' reads 2: hours and quantities without trailing zeros."""
    return format(_decimal(value).normalize(), "f")


def _span(low: str, high: str) -> str:
    return low if low == high else f"{low} to {high}"


@dataclass(frozen=True, slots=True)
class Row:
    """One labor or part line of a job, raw values (for CSV) beside their display."""

    kind: str  # "Labor" or "Part"
    code: str
    description: str
    hours: str
    quantity: str
    unit_price: str
    amount: str
    low: str
    high: str
    hours_low: str
    hours_high: str
    samples: int
    counted: bool  # an alternative part is listed, not added to the total
    citations: tuple[dict[str, Any], ...]

    @property
    def size(self) -> str:
        return f"{number(self.hours)} h" if self.kind == "Labor" else number(self.quantity)

    @property
    def price_span(self) -> str:
        return _span(money(self.low), money(self.high))

    @property
    def hours_span(self) -> str:
        return f"{_span(number(self.hours_low), number(self.hours_high))} h"

    @property
    def past_range(self) -> str:
        if self.kind == "Labor":
            return f"{self.price_span} ({self.hours_span})"
        return f"{self.price_span} each"

    @property
    def sources(self) -> str:
        return ", ".join(f"RO {c['ro_number']} {c['line_letter']}" for c in self.citations)


@dataclass(frozen=True, slots=True)
class JobTable:
    asked: str
    match: str
    reason: str | None
    lines: int
    rows: tuple[Row, ...]

    @property
    def label(self) -> str | None:
        return LABELS.get(self.match)

    @property
    def note(self) -> str:
        if self.reason:
            return _sentence(self.reason)
        if self.lines:
            return f"From {self.lines} past line{'s' * (self.lines != 1)} of this work."
        return ""

    @property
    def subtotal(self) -> Decimal:
        return sum((_decimal(r.amount) for r in self.rows if r.counted), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class EstimateView:
    """A stored or fresh draft (its JSON form) as the table, text and CSV show it."""

    vehicle: str
    identified_by: str
    window: str
    jobs: tuple[JobTable, ...]
    subtotal_labor: str
    subtotal_parts: str
    tax_rate: str
    tax: str
    total: str
    history: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]

    @property
    def identified(self) -> str:
        return IDENTIFIED.get(self.identified_by, "as typed")

    @property
    def rate(self) -> str:
        return f"{number(_decimal(self.tax_rate) * 100)}%"

    @property
    def text(self) -> str:
        return as_text(self)


def _labor(item: dict[str, Any]) -> Row:
    return Row(
        kind="Labor",
        code=item.get("operation") or "",
        description=item.get("description") or "",
        hours=item["hours"],
        quantity="",
        unit_price="",
        amount=item["amount"],
        low=item["amount_range"][0],
        high=item["amount_range"][1],
        hours_low=item["hours_range"][0],
        hours_high=item["hours_range"][1],
        samples=int(item["samples"]),
        counted=True,
        citations=tuple(item["citations"]),
    )


def _part(item: dict[str, Any]) -> Row:
    return Row(
        kind="Part",
        code=item.get("part_number") or "",
        description=item.get("description") or "",
        hours="",
        quantity=item["quantity"],
        unit_price=item["unit_price"],
        amount=item["total"],
        low=item["price_range"][0],
        high=item["price_range"][1],
        hours_low="",
        hours_high="",
        samples=int(item["samples"]),
        counted=not item.get("alternative", False),
        citations=tuple(item["citations"]),
    )


def view(draft: dict[str, Any]) -> EstimateView:
    v = draft["vehicle"]
    name = " ".join(str(p) for p in (v.get("year"), v.get("make"), v.get("model")) if p)
    years = draft.get("matched_years")
    window = f"{years[0]}-{years[1]} " if years else "every model year of "
    jobs = tuple(
        JobTable(
            asked=job["asked"],
            match=job["match"],
            reason=job.get("reason"),
            lines=int(job.get("lines") or 0),
            rows=(
                *(_labor(x) for x in draft["labor"] if x["job"] == job["asked"]),
                *(_part(x) for x in draft["parts"] if x["job"] == job["asked"]),
            ),
        )
        for job in draft["jobs"]
    )
    return EstimateView(
        vehicle=name,
        identified_by=v.get("identified_by") or "request",
        window=f"{window}{v.get('make', '')} {v.get('model', '')}".strip(),
        jobs=jobs,
        subtotal_labor=draft["subtotal_labor"],
        subtotal_parts=draft["subtotal_parts"],
        tax_rate=draft["tax_rate"],
        tax=draft["tax"],
        total=draft["total"],
        history=tuple(draft.get("related_history") or ()),
        notes=tuple(_sentence(n) for n in draft.get("notes") or ()),
    )


def as_text(estimate: EstimateView) -> str:
    """What "Copy as text" puts on the clipboard: the table as lines an email can hold."""
    lines = [
        f"Estimate draft: {estimate.vehicle} (identified {estimate.identified};"
        f" priced from {estimate.window})"
    ]
    for job in estimate.jobs:
        label = f" [{job.label}]" if job.label else ""
        lines += ["", f"{job.asked}{label}"]
        if job.note:
            lines.append(f"  {job.note}")
        for r in job.rows:
            extra = "" if r.counted else " (alternative, not in total)"
            price = "" if r.kind == "Labor" else f" x {money(r.unit_price)}"
            lines.append(
                f"  {r.kind}: {' '.join(p for p in (r.code, r.description) if p)}"
                f" | {r.size}{price} | {money(r.amount)}{extra}"
                f" | {r.samples} past line{'s' * (r.samples != 1)}: {r.past_range}"
                f" | from {r.sources}"
            )
        if job.rows:
            lines.append(f"  Job subtotal: {money(job.subtotal)}")
    lines += [
        "",
        f"Labor: {money(estimate.subtotal_labor)}",
        f"Parts: {money(estimate.subtotal_parts)}",
        f"Tax ({estimate.rate} on parts): {money(estimate.tax)}",
        f"Total: {money(estimate.total)}",
    ]
    if estimate.history:
        lines += ["", "Declined or recommended work on this vehicle:"]
        lines += [
            f"- RO {h['ro_number']} line {h['line_letter']}, {h['status']}"
            f"{', ' + h['date'] if h.get('date') else ''}: {h['summary']}"
            for h in estimate.history
        ]
    if estimate.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in estimate.notes)]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula is quoted as text."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_rows(estimate: EstimateView) -> Iterator[list[str]]:
    for job in estimate.jobs:
        asked = _cell(job.asked)
        for r in job.rows:
            yield [
                asked,
                job.match,
                r.kind.lower(),
                _cell(r.code),
                _cell(r.description),
                r.hours,
                r.quantity,
                r.unit_price,
                r.amount,
                r.low,
                r.high,
                str(r.samples),
                "yes" if r.counted else "no",
                r.sources,
            ]
        if not job.rows:
            yield [asked, job.match, "not priced", "", _cell(job.note), *[""] * 9]
    for kind, amount, note in (
        ("labor subtotal", estimate.subtotal_labor, ""),
        ("parts subtotal", estimate.subtotal_parts, ""),
        ("tax", estimate.tax, f"{estimate.rate} on parts"),
        ("total", estimate.total, ""),
    ):
        yield ["", "", kind, "", note, "", "", "", amount, *[""] * 5]
    for h in estimate.history:
        where = f"RO {h['ro_number']} {h['line_letter']}"
        yield ["", "", h["status"], where, _cell(h["summary"]), *[""] * 8, where]
    for note in estimate.notes:
        yield ["", "", "note", "", _cell(note), *[""] * 9]


def as_csv(estimate: EstimateView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(estimate))
    return out.getvalue()


def _filename(estimate: EstimateView) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", estimate.vehicle.lower()).strip("-")
    return f"estimate-{slug or 'draft'}.csv"


def csv_response(request: Request[Any, Any, Any], draft: dict[str, Any]) -> Response[str]:
    estimate = view(draft)
    return Response(
        as_csv(estimate),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{_filename(estimate)}"',
            "cache-control": "no-store",
        },
        cookies=web_session.renewed(request),
    )


def _form_page(
    request: Request[Any, Any, Any],
    form: EstimateForm,
    draft: dict[str, Any] | None,
    errors: Iterable[str] = (),
    status_code: int = 200,
) -> Template:
    """The result fragment for htmx; the whole page for a browser posting without it."""
    partial = bool(request.headers.get("hx-request"))
    return page(
        request,
        "partials/estimate_result.html" if partial else "estimates.html",
        status_code=status_code,
        active="estimates",
        form=form,
        estimate=view(draft) if draft else None,
        errors=list(errors),
        uid="estimate",
        panel_hx=True,
        download=draft is not None,
        csv_url=None,
        money=money,
    )


@get("/estimates", dependencies={"caller": PAGE}, include_in_schema=False)
async def estimates_page(
    request: Request[Any, Any, Any], caller: NamedDependency[Caller]
) -> Template:
    return _form_page(request, EstimateForm(), None)


@post("/estimates", dependencies={"caller": PAGE}, include_in_schema=False, status_code=200)
async def draft_page(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    data: Annotated[EstimateForm, FORM],
) -> Template:
    try:
        draft = await compute(state, caller, meta, data)
    except Refused as exc:
        return _form_page(request, data, None, exc.messages, exc.status)
    return _form_page(request, data, draft)


@post(
    "/estimates/draft.csv", dependencies={"caller": PAGE}, include_in_schema=False, status_code=200
)
async def draft_csv(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    meta: NamedDependency[RequestMeta],
    data: Annotated[EstimateForm, FORM],
) -> Response[Any]:
    """A form post, not a link with a query: a VIN stays out of addresses, logs and history."""
    try:
        draft = await compute(state, caller, meta, data)
    except Refused as exc:
        return _form_page(request, data, None, exc.messages, exc.status)
    return csv_response(request, draft)


async def stored_draft(state: State, caller: Caller, message_id: UUID) -> dict[str, Any]:
    """The draft stored with one of the caller's own chat answers; anyone else's is a 404."""
    async with state.database.transaction(caller.ctx) as session:
        message = await chat_repo.message(session, caller.ctx.tenant_id, message_id)
        if message is None:
            raise NotFound("no such message")
        await conversations.own(session, caller, message.conversation_id)
    draft = message.metadata.get("estimate") if message.role == "assistant" else None
    if not isinstance(draft, dict):
        raise NotFound("this answer holds no estimate")
    return draft


@get(
    "/ui/messages/{message_id:uuid}/estimate",
    dependencies={"caller": PAGE},
    include_in_schema=False,
)
async def message_estimate(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    message_id: FromPath[UUID],
) -> Template:
    draft = await stored_draft(state, caller, message_id)
    return page(
        request,
        "partials/estimate.html",
        estimate=view(draft),
        uid=f"estimate-{message_id}",
        panel_hx=False,  # the chat page opens its own RO panel from the chips
        download=False,
        csv_url=f"/ui/messages/{message_id}/estimate.csv",
        money=money,
    )


@get(
    "/ui/messages/{message_id:uuid}/estimate.csv",
    dependencies={"caller": PAGE},
    include_in_schema=False,
)
async def message_estimate_csv(
    request: Request[Any, Any, Any],
    state: State,
    caller: NamedDependency[Caller],
    message_id: FromPath[UUID],
) -> Response[str]:
    return csv_response(request, await stored_draft(state, caller, message_id))


ROUTES: list[Any] = [
    estimates_page,
    draft_page,
    draft_csv,
    message_estimate,
    message_estimate_csv,
]
