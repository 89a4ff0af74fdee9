"""PII placeholders in answers, rendered for each reader on the way out.

Stored messages and everything sent to a model hold `[[pii:RO_NUMBER:FIELD]]`, never a
value. Rendering decides per reader and per request, and only where the server itself put
the placeholder:

- only in assistant messages (a user's own text shows a neutral label, never a value),
- only for ROs that message cites, and only after the answer has named that RO ("RO
  48211"), so a value always stands next to the record it belongs to (a PII_APPROVED user
  reads anything else through `GET /repair-orders/{id}?purpose=…`),
- never inside a link or image target, a URL or an HTML tag (`[removed]`), so a value is
  always plain text and cannot be carried off to another host by a Markdown renderer,
- each (RO, field) revealed once per request (one audit row per RO for the fields the
  page shows), and at most `MAX_PER_MESSAGE` distinct details per message.

TECH sees `[redacted]`. A placeholder naming an RO this shop does not have renders as
`[unknown]`, so a model cannot reach another shop's customers by guessing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit.service import RequestMeta
from assistant.auth.caller import Caller
from assistant.pii import reveal, vault
from assistant.pii.keyring import KeyRing
from assistant.pii.markers import PLACEHOLDER, placeholder
from assistant.repair_orders import repository

__all__ = ["PLACEHOLDER", "Renderer", "placeholder", "render_stream", "user_label"]

REDACTED = "[redacted]"
UNKNOWN = "[unknown]"
REMOVED = "[removed]"
TOO_MANY = "[too many details: open the RO]"
PURPOSE = "shown in a chat answer"
MAX_PER_MESSAGE = 10
_LONGEST = 48  # a placeholder is never longer than this
_CONTEXT = 2000  # how much earlier text decides whether a placeholder sits in a link
_TAIL = 40
# "RO 48211", "RO #48211", "[RO 48211 line A]": how answers name the records they cite.
_RO_NAMED = re.compile(r"(?i)\bRO\s{0,3}#?\s{0,3}([A-Za-z0-9][A-Za-z0-9\-]{0,19})\b")


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


def user_label(text: str) -> str:
    """What a user's own stored text shows where the server recognised a detail."""
    return PLACEHOLDER.sub(lambda m: f"[{m[2].replace('_', ' ')} of RO {m[1]}]", text)


# Anything that can open a link or image target, a reference definition, an autolink, a
# URL or an HTML tag. A value is shown only in a paragraph that holds none of them before
# it, so no Markdown renderer can carry it to another host, however the syntax is bent
# (escaped or nested parentheses, a target on the next line, a reference defined later).
_LINKISH = ("](", "][", "]:", "<", "//", ":/", "\\/", "www.", "mailto:", "tel:", "=", "&#")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def paragraph_tail(text: str) -> str:
    """The text after the last blank line: the paragraph a next piece would continue."""
    ends = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
    return text[ends[-1] :] if ends else text


def in_link(paragraph: str) -> bool:
    """Whether text placed after `paragraph` (the rendered paragraph so far) could land in
    a link, URL or tag. Conservative: a paragraph too long to judge counts as one."""
    lowered = paragraph.lower()
    return len(paragraph) >= _CONTEXT or any(mark in lowered for mark in _LINKISH)


Key = tuple[str, str]


@dataclass(slots=True)
class Renderer:
    """One per request: the values it has revealed, so each (RO, field) costs one reveal
    and one audit row however many messages or stream pieces show it."""

    ring: KeyRing
    caller: Caller
    meta: RequestMeta
    _shown: dict[Key, str] = field(default_factory=dict)

    def message(self, cited: Collection[str]) -> MessageRender:
        return MessageRender(self, frozenset(cited))

    async def values(self, session: AsyncSession, keys: Collection[Key]) -> None:
        by_ro: dict[str, list[str]] = {}
        for ro_number, name in keys:
            if (ro_number, name) not in self._shown:
                by_ro.setdefault(ro_number, []).append(name)
        tenant = self.caller.ctx.tenant_id
        for ro_number, names in by_ro.items():
            ro_id = await repository.ro_id_by_number(session, tenant, ro_number)
            if ro_id is None:
                self._shown |= {(ro_number, n): UNKNOWN for n in names}
                continue
            result = await reveal.reveal(
                session, self.ring, self.caller.ctx, ro_id, names, PURPOSE, self.meta
            )
            for name in names:
                shown = (
                    _display(result.values.get(name))
                    if isinstance(result, reveal.Revealed)
                    else REDACTED
                )
                self._shown[(ro_number, name)] = shown

    def shown(self, key: Key) -> str:
        return self._shown[key]


@dataclass(slots=True)
class MessageRender:
    """Renders one assistant message, whole or piece by piece as it streams. What decides
    whether a value may appear is the rendered text before it, values included, so a value
    on file that holds link syntax cannot open a link for the next one."""

    renderer: Renderer
    cited: frozenset[str]
    _paragraph: str = ""
    _tail: str = ""  # the end of the text so far, so an RO number split by the stream counts
    _named: set[str] = field(default_factory=set)
    _distinct: set[Key] = field(default_factory=set)

    def _advance(self, rendered: str) -> None:
        self._paragraph = paragraph_tail(self._paragraph + rendered)[-_CONTEXT:]

    def _read(self, piece: str) -> None:
        """ROs the answer has named so far: a value is shown only after its RO is."""
        window = self._tail + PLACEHOLDER.sub(" ", piece)
        self._named.update(m[1] for m in _RO_NAMED.finditer(window))
        self._tail = window[-_TAIL:]

    def plain(self, text: str) -> str:
        """A piece with no placeholder: nothing to render, but later ones read it."""
        self._read(text)
        self._advance(text)
        return text

    async def render(self, session: AsyncSession, text: str) -> str:
        matches = list(PLACEHOLDER.finditer(text))
        decisions: list[str | Key] = []
        wanted: set[Key] = set()
        revealing = self.renderer.caller.ctx.role in reveal.REVEALING_ROLES
        paragraph, cursor = self._paragraph, 0
        for match in matches:
            key: Key = (match[1], match[2])
            paragraph = paragraph_tail(paragraph + text[cursor : match.start()])[-_CONTEXT:]
            self._read(text[cursor : match.start()])
            cursor = match.end()
            if key[1] not in vault.PII_FIELDS:
                decisions.append(UNKNOWN)
            elif not revealing or key[0] not in self.cited or key[0] not in self._named:
                decisions.append(REDACTED)
            elif in_link(paragraph):
                decisions.append(REMOVED)
            elif key not in self._distinct and len(self._distinct) >= MAX_PER_MESSAGE:
                decisions.append(TOO_MANY)
            else:
                self._distinct.add(key)
                wanted.add(key)
                decisions.append(key)
            paragraph += "x"
        self._read(text[cursor:])
        if wanted:
            await self.renderer.values(session, wanted)
        out: list[str] = []
        paragraph, cursor = self._paragraph, 0
        for match, decision in zip(matches, decisions, strict=True):
            piece = text[cursor : match.start()]
            out.append(piece)
            paragraph = paragraph_tail(paragraph + piece)[-_CONTEXT:]
            if isinstance(decision, str):
                shown = decision
            elif in_link(paragraph):
                shown = REMOVED  # an earlier value opened something: not this one
            else:
                shown = self.renderer.shown(decision)
            out.append(shown)
            paragraph = paragraph_tail(paragraph + shown)[-_CONTEXT:]
            cursor = match.end()
        out.append(text[cursor:])
        rendered = "".join(out)
        self._advance(rendered)
        return rendered


Render = Callable[[str], Awaitable[str]]


async def render_stream(deltas: AsyncIterator[str], render_text: Render) -> AsyncIterator[str]:
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


def _could_open(tail: str) -> bool:
    return "[[pii:".startswith(tail) or bool(_OPEN_PLACEHOLDER.fullmatch(tail))


def _safe_prefix(text: str) -> int:
    """How much of `text` can be rendered now without cutting a placeholder in two."""
    for start in range(max(0, len(text) - _LONGEST), len(text)):
        if text[start] == "[" and _could_open(text[start:]):
            return start
    return len(text)


_OPEN_PLACEHOLDER = re.compile(r"\[\[pii:[A-Za-z0-9\-]{0,20}(?::[a-z_]{0,20}\]?)?")
