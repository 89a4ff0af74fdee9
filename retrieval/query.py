"""Reading a technician's question: identifiers become filters or boosts, PII is taken out.

A VIN or plate typed in the question is returned separately (so the caller can turn it into
a blind index) and replaced by a placeholder in the text that gets embedded and matched:
neither ever reaches a chunk, an embedding or a result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.scrub import PiiKind, Scrubber, placeholder, vin_check_digit_ok

MAX_QUESTION_CHARS = 2000

RO_NUMBER = re.compile(
    r"(?i:\b(?:ro|r\.o\.|repair\s++order|work\s++order|invoice)\s*+(?:#|no\.?|number)?\s*+:?\s*+)"
    r"#?(\d{3,10})\b"
)
# A VIN as typed: 17 VIN characters, possibly in groups separated by spaces or dashes.
VIN_TYPED = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-HJ-NPR-Za-hj-npr-z0-9][\s\-]?){16}[A-HJ-NPR-Za-hj-npr-z0-9]"
    r"(?![A-Za-z0-9])"
)
TROUBLE_CODE = re.compile(r"(?i)\b[PBCU][0-3][0-9A-F]{3}\b")
# Words with a digit (group 1), or dashed capitals (group 2): part numbers, op codes, RO
# numbers, codes. The digit look-ahead runs once per run of word characters, dashes and
# slashes, from its start: run from every word inside it, it was quadratic.
CODE_TOKEN = re.compile(
    r"(?<![\w\-/])[\-/]*+(?=[\w\-/]*?\d)(\w[\w\-/]{2,})\b|\b([A-Z]{2,}+(?:-[A-Z0-9]++)+)\b"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QuestionError(ValueError):
    """The question cannot be searched as given (empty, or only control characters)."""


@dataclass(frozen=True, slots=True)
class ParsedQuestion:
    text: str  # PII-free: what is embedded and matched
    ro_numbers: tuple[str, ...] = ()
    vins: tuple[str, ...] = field(default=(), repr=False)
    plates: tuple[str, ...] = field(default=(), repr=False)
    trouble_codes: tuple[str, ...] = ()
    code_tokens: tuple[str, ...] = ()


def parse(question: str) -> ParsedQuestion:
    cleaned = _CONTROL.sub(" ", question).strip()
    if not cleaned:
        raise QuestionError("the question is empty")
    cleaned = cleaned[:MAX_QUESTION_CHARS]
    vins: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for m in VIN_TYPED.finditer(cleaned):
        value = re.sub(r"[\s\-]", "", m.group(0)).upper()
        spaced = value != m.group(0).upper()
        digits = sum(c.isdigit() for c in value)
        # Typed in one piece, a VIN may lack the North American check digit; split into
        # groups it must have one, or words run together would read as a VIN.
        if vin_check_digit_ok(value) or (not spaced and 3 <= digits <= 14):
            vins.append(value)
            spans.append((m.start(), m.end(), placeholder(PiiKind.VIN)))
    plates: list[str] = []
    scrubber = Scrubber()
    for finding in scrubber.find(cleaned):
        if any(s <= finding.start < e for s, e, _ in spans):
            continue
        if finding.kind is PiiKind.LICENSE_PLATE:
            plates.append(cleaned[finding.start : finding.end])
        elif finding.kind is PiiKind.VIN:
            vins.append(cleaned[finding.start : finding.end].upper())
        spans.append((finding.start, finding.end, placeholder(finding.kind)))
    text = replace_spans(cleaned, spans)
    return ParsedQuestion(
        text=text,
        ro_numbers=tuple(dict.fromkeys(RO_NUMBER.findall(text))),
        vins=tuple(dict.fromkeys(vins)),
        plates=tuple(dict.fromkeys(plates)),
        trouble_codes=tuple(dict.fromkeys(c.upper() for c in TROUBLE_CODE.findall(text))),
        code_tokens=tuple(dict.fromkeys(a or b for a, b in CODE_TOKEN.findall(text)))[:20],
    )


def replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Each (start, end, replacement) in order; a span overlapping an earlier one is dropped."""
    out, cursor = [], 0
    for start, end, marker in sorted(spans):
        if start < cursor:
            continue
        out.append(text[cursor:start])
        out.append(marker)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
