"""Answers with no model configured: the retrieved records' own lines, each with its
citation. Nothing is paraphrased, so nothing can be invented; the answer is labelled
`extractive` in the message's `model`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.chat.placeholders import placeholder
from retrieval.search import Hit

MODEL_NAME = "extractive"
NOT_FOUND = "Not found in this shop's records."
MAX_RECORDS = 4
MAX_LINES_PER_RECORD = 3
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "at",
        "be",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "last",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "show",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "ro",
        "line",
        "car",
        "vehicle",
        "time",
        "ever",
    ]
)
_PII_ASKED = {
    "phones": re.compile(r"(?i)\b(phone|cell|call|number to reach)\b"),
    "email": re.compile(r"(?i)\be-?mail\b"),
    "customer_name": re.compile(r"(?i)\b(customer'?s? name|who (?:is|was) the customer|owner)\b"),
    "address": re.compile(r"(?i)\baddress\b"),
    "vin": re.compile(r"(?i)\bvin\b"),
    "license_plate": re.compile(r"(?i)\b(plate|tag number)\b"),
    "payment_method": re.compile(r"(?i)\b(paid|payment|card)\b"),
}


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def relevant(hits: Sequence[Hit], narrowed: bool) -> list[Hit]:
    """Hits worth quoting: with no identifying filter, a hit must match the question's words
    too (the vector search alone always finds *something*, relevant or not)."""
    if narrowed:
        return list(hits)
    return [h for h in hits if h.text_rank is not None]


def cite(hit: Hit) -> str:
    return f"[RO {hit.ro_number}" + (f" line {hit.line_letter}]" if hit.line_letter else "]")


def answer(question: str, hits: Sequence[Hit], ro_numbers: Sequence[str]) -> str:
    """`ro_numbers`: ROs the question names, for a customer detail asked about them."""
    asked = [f for f, pattern in _PII_ASKED.items() if pattern.search(question)]
    details = [
        f"Customer {field.replace('_', ' ')} on RO {ro}: {placeholder(ro, field)}"
        for ro in ro_numbers[:2]
        for field in asked
    ]
    if not hits:
        return "\n".join(details) if details else NOT_FOUND
    terms = _terms(question)
    out = ["From this shop's records:"] if hits else []
    for hit in hits[:MAX_RECORDS]:
        header, _, body = hit.content.partition("\n")
        lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
        scored = sorted(
            lines,
            key=lambda ln: (-len(terms & _terms(ln)), not ln.startswith("Correction")),
        )
        chosen = [ln for ln in lines if ln in scored[:MAX_LINES_PER_RECORD]] or [header]
        where = f"RO {hit.ro_number}" + (f" line {hit.line_letter}" if hit.line_letter else "")
        when = hit.opened_on.isoformat() if hit.opened_on else "undated"
        status = f", {hit.line_status}" if hit.line_status else ""
        out.append(f"- {where} ({when}, {hit.vehicle}{status}): {' '.join(chosen)} {cite(hit)}")
    return "\n".join([*details, *out])
