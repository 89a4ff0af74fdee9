"""An advisor asking for an estimate in chat gets the same computed draft as the estimates
endpoint, summarised in words. The model never writes the numbers: every price and hour
comes from the shop's own past lines, with their citations."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.auth.caller import Caller
from assistant.estimates.drafts import EstimateError, EstimateRequest, NoWorkNamed
from assistant.estimates.service import asked_jobs, draft_estimate
from assistant.pii.keyring import KeyRing
from retrieval import understanding
from retrieval.embedders import Embedder
from retrieval.query import ParsedQuestion

MODEL_NAME = "estimate-draft"
_WANTED = re.compile(r"(?i)\b(estimate|quote)\b|\bhow much (?:would|will|to|for|is)\b")
NO_VEHICLE = (
    "To draft an estimate, name the vehicle: its year, make and model, one of its RO "
    "numbers, or its VIN."
)
NO_WORK = (
    "To draft an estimate, name the work to price, for example 'front brakes' or "
    "'oil change and tire rotation': this request names no repair or service."
)
NO_WORK_OR_VEHICLE = (
    "To draft an estimate, name the work to price (for example 'front brakes') and the "
    "vehicle: its year, make and model, one of its RO numbers, or its VIN."
)


def wanted(question: str) -> bool:
    return bool(_WANTED.search(question))


async def request_from_question(
    session: AsyncSession, caller: Caller, parsed: ParsedQuestion
) -> EstimateRequest | None:
    if parsed.ro_numbers:
        return EstimateRequest(work=parsed.text, ro_number=parsed.ro_numbers[0])
    if parsed.vins:
        return EstimateRequest(work=parsed.text, vin=parsed.vins[0])
    catalog = await understanding.catalog(session, caller.ctx.tenant_id)
    vehicle = understanding.vehicle_filters(parsed.text, catalog)
    year, make, model = vehicle.get("year"), vehicle.get("make"), vehicle.get("model")
    if not model:
        return None
    # A model named with its year but not its make ("the 2019 Civic") gets its make from
    # the shop's ROs in the estimate itself.
    return EstimateRequest(
        work=parsed.text,
        year=year if isinstance(year, int) else None,
        make=str(make) if make else None,
        model=str(model),
    )


def _money(value: Any) -> str:
    return f"${value}"


def _cites(citations: list[dict[str, Any]]) -> str:
    numbers = list(dict.fromkeys(c["ro_number"] for c in citations))
    shown = ", ".join(f"RO {n}" for n in numbers[:4])
    return f"[{shown}{' …' if len(numbers) > 4 else ''}]"


def _job_heading(job: dict[str, Any]) -> str:
    if job["match"] == "exact":
        return f"{job['asked']} (from {job['lines']} past line{'s' * (job['lines'] != 1)}):"
    if job["match"] == "near":
        return f"{job['asked']}, not done on this vehicle's years: {job['reason']}:"
    return f"{job['asked']}: {job['reason']}."


def summary(draft: dict[str, Any]) -> str:
    """Job by job: what each was priced from (a near match or missing work said so), its
    labor and parts with their citations, then the totals over all jobs."""
    v = draft["vehicle"]
    name = " ".join(str(p) for p in (v.get("year"), v.get("make"), v.get("model")) if p)
    lines = [f"Estimate draft for a {name}, from this shop's past completed work:"]
    for job in draft["jobs"]:
        lines.append(_job_heading(job))
        for labor in (x for x in draft["labor"] if x["job"] == job["asked"]):
            lines.append(
                f"- Labor {labor['operation'] or ''} {labor['description'] or ''}: "
                f"{labor['hours']} h, {_money(labor['amount'])} "
                f"(past {labor['samples']}: {_money(labor['amount_range'][0])} to "
                f"{_money(labor['amount_range'][1])}) {_cites(labor['citations'])}"
            )
        for part in (x for x in draft["parts"] if x["job"] == job["asked"]):
            lines.append(
                f"- Part {part['part_number'] or ''} {part['description'] or ''} "
                f"x{part['quantity']} @ {_money(part['unit_price'])} (past {part['samples']}: "
                f"{_money(part['price_range'][0])} to {_money(part['price_range'][1])}) "
                f"{_cites(part['citations'])}"
            )
    if draft["labor"] or draft["parts"]:
        lines.append(
            f"Labor {_money(draft['subtotal_labor'])}, parts {_money(draft['subtotal_parts'])}, "
            f"tax {_money(draft['tax'])} at the shop's {draft['tax_rate']} rate: "
            f"total {_money(draft['total'])}."
        )
    for item in draft["related_history"]:
        lines.append(
            f"Related {item['status']} work: RO {item['ro_number']} line {item['line_letter']} "
            f"({item['date']}): {item['summary']} [RO {item['ro_number']}]"
        )
    said = {job["reason"] for job in draft["jobs"]}
    lines.extend(note for note in draft["notes"] if note not in said)
    return "\n".join(lines)


def citations_of(draft: dict[str, Any]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str | None], dict[str, Any]] = {}
    for item in [*draft["labor"], *draft["parts"]]:
        for c in item["citations"]:
            key = (c["ro_number"], c.get("line_letter"))
            seen.setdefault(
                key,
                {
                    "ro_id": c["ro_id"],
                    "ro_number": c["ro_number"],
                    "line": c.get("line_letter"),
                    "date": c.get("date"),
                    "vehicle": c["vehicle"],  # the cited RO's own, a near match's too
                },
            )
    return list(seen.values())


async def draft_for_chat(
    session: AsyncSession,
    ring: KeyRing,
    embedder: Embedder,
    caller: Caller,
    parsed: ParsedQuestion,
) -> tuple[str, list[dict[str, Any]], dict[str, Any] | None] | None:
    """(answer text, citations, the draft) or None when this is no estimate request after all.
    A request that names no vehicle or no work gets what is missing, not a draft."""
    request = await request_from_question(session, caller, parsed)
    if request is None:
        named = await asked_jobs(session, caller.ctx.tenant_id, parsed.text)
        return (NO_VEHICLE if named else NO_WORK_OR_VEHICLE), [], None
    try:
        draft = (
            await draft_estimate(session, ring, embedder, caller.ctx.tenant_id, request)
        ).as_dict()
    except NoWorkNamed:
        return NO_WORK, [], None
    except EstimateError as exc:
        return str(exc), [], None
    return summary(draft), citations_of(draft), draft
