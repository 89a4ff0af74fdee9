"""Fitting retrieved chunks into the chat model's context budget, each with its citation.

Counted with tiktoken (the model's own encoding when it is available offline, the shipped
cl100k_base otherwise), best hits first; a chunk that does not fit is left out whole, never
cut mid-story, and smaller ones after it may still fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from retrieval.search import Hit
from retrieval.tokens import count_tokens


@dataclass(frozen=True, slots=True)
class Citation:
    number: int
    ro_id: UUID
    ro_number: str
    line: str | None
    date: date | None
    vehicle: str


@dataclass(frozen=True, slots=True)
class PackedContext:
    text: str
    citations: tuple[Citation, ...]
    tokens: int
    left_out: int


def _block(number: int, hit: Hit) -> str:
    line = f" line {hit.line_letter}" if hit.line_letter else ""
    when = hit.opened_on.isoformat() if hit.opened_on else "undated"
    return f"[{number}] RO {hit.ro_number}{line} ({when}, {hit.vehicle})\n{hit.content}\n"


def pack(hits: Sequence[Hit], budget_tokens: int, model: str | None = None) -> PackedContext:
    blocks: list[str] = []
    citations: list[Citation] = []
    used = left_out = 0
    seen: set[str] = set()
    for hit in hits:
        if hit.content in seen:
            continue
        seen.add(hit.content)
        block = _block(len(citations) + 1, hit)
        cost = count_tokens(block, model)
        if used + cost > budget_tokens:
            left_out += 1
            continue
        blocks.append(block)
        used += cost
        citations.append(
            Citation(
                len(citations) + 1,
                hit.ro_id,
                hit.ro_number,
                hit.line_letter,
                hit.opened_on,
                hit.vehicle,
            )
        )
    return PackedContext("\n".join(blocks), tuple(citations), used, left_out)
