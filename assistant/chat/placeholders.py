"""PII placeholders in answers, rendered for each caller on the way out.

Stored messages and everything sent to a model hold `[[pii:RO_NUMBER:FIELD]]`, never a
value. Rendering decides per caller and per read: TECH sees `[redacted]`; ADMIN and
PII_APPROVED see the value, and each value shown writes one audit row in the same
transaction (no audit row, no value). A placeholder naming an RO this shop does not have
renders as `[unknown]`, so a model cannot reach another shop's customers by guessing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.chat import repository
from assistant.pii import reveal, vault
from assistant.pii.keyring import KeyRing
from assistant.search import Caller

PLACEHOLDER = re.compile(r"\[\[pii:([A-Za-z0-9\-]{1,20}):([a-z_]{2,20})\]\]")
REDACTED = "[redacted]"
UNKNOWN = "[unknown]"
PURPOSE = "shown in a chat answer"
_LONGEST = 48  # a placeholder is never longer than this


def placeholder(ro_number: str, field: str) -> str:
    return f"[[pii:{ro_number}:{field}]]"


def _display(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "[none on file]"
    if isinstance(value, list):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, dict):
        street = value.get("street") or value.get("line1") or ""
        tail = " ".join(str(value.get(k) or "") for k in ("state", "zip")).strip()
        return ", ".join(p for p in (street, value.get("city") or "", tail) if p)
    return str(value)


async def render_one(
    session: AsyncSession,
    ring: KeyRing,
    caller: Caller,
    ro_number: str,
    field: str,
    meta: RequestMeta,
) -> str:
    if field not in vault.PII_FIELDS:
        return UNKNOWN
    if caller.ctx.role not in reveal.REVEALING_ROLES:
        return REDACTED
    ro_id = await repository.ro_id_by_number(session, caller.ctx.tenant_id, ro_number)
    if ro_id is None:
        return UNKNOWN
    result = await reveal.reveal(session, ring, caller.ctx, ro_id, [field], PURPOSE, meta)
    if isinstance(result, reveal.Revealed):
        return _display(result.values.get(field))
    return REDACTED


async def render(
    session: AsyncSession, ring: KeyRing, caller: Caller, text: str, meta: RequestMeta
) -> str:
    out: list[str] = []
    cursor = 0
    for match in PLACEHOLDER.finditer(text):
        out.append(text[cursor : match.start()])
        out.append(await render_one(session, ring, caller, match[1], match[2], meta))
        cursor = match.end()
    out.append(text[cursor:])
    return "".join(out)


Renderer = Callable[[str], Awaitable[str]]


async def render_stream(deltas: AsyncIterator[str], render_text: Renderer) -> AsyncIterator[str]:
    """Rendered text as it streams: a delta that might end inside a placeholder is held
    back until the placeholder closes (or clearly is not one), so no half-placeholder and
    no unrendered one ever reaches the client."""
    pending = ""
    async for delta in deltas:
        pending += delta
        safe = _safe_prefix(pending)
        if safe:
            yield await render_text(pending[:safe])
            pending = pending[safe:]
    if pending:
        yield await render_text(pending)


_OPEN_PLACEHOLDER = re.compile(r"\[\[pii:[A-Za-z0-9\-]{0,20}(?::[a-z_]{0,20}\]?)?")


def _could_open(tail: str) -> bool:
    return "[[pii:".startswith(tail) or bool(_OPEN_PLACEHOLDER.fullmatch(tail))


def _safe_prefix(text: str) -> int:
    """How much of `text` can be rendered now without cutting a placeholder in two."""
    for start in range(max(0, len(text) - _LONGEST), len(text)):
        if text[start] == "[" and _could_open(text[start:]):
            return start
    return len(text)
