"""PII scrubbing of free text before it is stored outside the vault, embedded or sent on.

Two layers: the RO's own vault values in any spelling (case, spacing, punctuation, phone
formats), then detectors for PII the vault does not know about (VINs with a valid check
digit, emails, NANP phone numbers, Luhn-valid card numbers, plates next to plate/tag/lic).
Each finding becomes a typed placeholder that says what was there, never what it was.
Questions, ingested fields and log events all pass through here, so every pattern is linear
in its input: bounded or possessive repetition, and no run read again from each position.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PiiKind(StrEnum):
    CUSTOMER_NAME = "customer_name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    VIN = "vin"
    LICENSE_PLATE = "license_plate"
    PAYMENT = "payment"
    CARD_NUMBER = "card_number"


def placeholder(kind: PiiKind) -> str:
    return f"[{kind.value.upper()}]"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: PiiKind
    start: int
    end: int
    from_vault: bool


@dataclass(frozen=True, slots=True)
class ScrubResult:
    text: str
    findings: tuple[Finding, ...]


# --- detectors ---------------------------------------------------------------------------
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", map(int, "12345678123457923456789"), strict=True))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")

_EDGE_L = r"(?<![A-Za-z0-9])"
_EDGE_R = r"(?![A-Za-z0-9])"


def _keywords(words: str) -> str:
    """Space-separated alternatives behind a test of their first characters, so that each
    word boundary of a long run does not try every alternative."""
    alternatives = words.split()
    return f"(?=[{''.join(sorted({w[0] for w in alternatives}))}])(?:{'|'.join(alternatives)})"


VIN_CANDIDATE = re.compile(_EDGE_L + r"[A-HJ-NPR-Za-hj-npr-z0-9]{17}" + _EDGE_R)
_LOCAL = r"[A-Za-z0-9._%+\-]"
_LOCAL_RUN = re.compile(_LOCAL + "++")
# RFC 1035 limits (127 labels of 63 characters), so no valid domain is cut short.
_AT_DOMAIN = re.compile(
    r"\s?@\s?[A-Za-z0-9\-]{1,63}+(?:\.[A-Za-z0-9\-]{1,63}+){0,126}\.[A-Za-z]{2,63}"
)
# Only from the start of a run of address characters, so each run is read once.
EMAIL = re.compile(f"(?<!{_LOCAL}){_LOCAL_RUN.pattern}{_AT_DOMAIN.pattern}")
PHONE = re.compile(
    r"(?<![\w\-/.])(?:\+?1[\s.\-]?)?(?:\([2-9]\d{2}\)\s*+|[2-9]\d{2}[\s.\-])[2-9]\d{2}[\s.\-]\d{4}"
    r"(?![\w\-/])"
)
_PHONE_WORDS = (
    r"ph(?:one)? cell tel mobile mob call(?:ed)? text(?:ed)? cb call\s?back contact reach(?:ed)?"
    r" number no\.? #"
)
PHONE_BARE = re.compile(
    r"(?i:\b" + _keywords(_PHONE_WORDS) + r"\b[^A-Za-z0-9]{0,4})(\+?1?[2-9]\d{2}[2-9]\d{6})(?!\d)"
)
PHONE_PLUS = re.compile(r"(?<![\w])\+1[\s.\-]?[2-9]\d{2}[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}(?!\d)")
CARD = re.compile(r"(?<![\d\-])(?:\d[ \-]?){12,18}\d(?![\d\-])")
_PLATE_WORDS = r"license\s++plate lic(?:ense)?\.?(?:\s*+(?:plate|plt)|\s*+|) plate plt tag lp"
PLATE_NEAR = re.compile(
    r"(?i:\b" + _keywords(_PLATE_WORDS) + r"\b"
    r"\s*+(?:no\.?|number|num|#)?\s*+[:#=\-]?\s*+(?:is\s++|reads\s++)?)"
    r"([A-Za-z0-9]{1,4}(?:[\s\-]?[A-Za-z0-9]{1,4}){0,3})" + _EDGE_R
)
_PLATE_GROUP = re.compile(r"[A-Za-z0-9]+")
_CARD_WORDS = r"ending(?:\s++in)? ends\s++in last\s*+4 card visa mastercard mc amex disc(?:over)?"
CARD_CONTEXT = (
    r"(?i:(?:\b" + _keywords(_CARD_WORDS) + r"|(?<!x)x{2,}+|(?<!\*)\*{2,}+|(?<![A-Za-z])x(?=\d))"
    r"[^A-Za-z0-9]{0,6})"
)


def vin_check_digit_ok(vin: str) -> bool:
    vin = vin.upper()
    if len(vin) != 17 or any(c not in _VIN_CHARS for c in vin):
        return False
    total = sum(
        (int(c) if c.isdigit() else _VIN_VALUES[c]) * w
        for c, w in zip(vin, _VIN_WEIGHTS, strict=True)
    )
    check = total % 11
    return vin[8] == ("X" if check == 10 else str(check))


def luhn_ok(digits: str) -> bool:
    """Table-driven: a run of card-like digit groups brings thousands of candidates."""
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def _detect(text: str) -> Iterable[Finding]:
    for m in VIN_CANDIDATE.finditer(text):
        v = m.group(0)
        if vin_check_digit_ok(v) and any(c.isalpha() for c in v) and any(c.isdigit() for c in v):
            yield Finding(PiiKind.VIN, m.start(), m.end(), False)
    cursor = 0
    while email := EMAIL.search(text, cursor):
        cursor = email.end()
        yield Finding(PiiKind.EMAIL, email.start(), cursor, False)
        # An address glued to the one before ("a@b.com.c@d.org") starts mid-run: read on.
        while (run := _LOCAL_RUN.match(text, cursor)) and (at := _AT_DOMAIN.match(text, run.end())):
            yield Finding(PiiKind.EMAIL, cursor, at.end(), False)
            cursor = at.end()
    for pattern in (PHONE, PHONE_PLUS):
        for m in pattern.finditer(text):
            yield Finding(PiiKind.PHONE, m.start(), m.end(), False)
    for m in PHONE_BARE.finditer(text):
        yield Finding(PiiKind.PHONE, m.start(1), m.end(1), False)
    for m in CARD.finditer(text):
        digits = m.group(0).replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            yield Finding(PiiKind.CARD_NUMBER, m.start(), m.end(), False)
    for m in PLATE_NEAR.finditer(text):
        end = _plate_end(m.group(1))
        if end:
            yield Finding(PiiKind.LICENSE_PLATE, m.start(1), m.start(1) + end, False)


def _is_state(group: str) -> bool:
    return len(group) == 2 and group.isalpha()


def _plate_end(candidate: str) -> int:
    """Length of the longest leading run of groups that reads as a plate ("9-HTZ-293",
    "AZ BXR4471"), or 0. A lowercase word ("plate 4 bolts") is never part of a plate."""
    groups = list(_PLATE_GROUP.finditer(candidate))
    for count in range(len(groups), 0, -1):
        chosen = groups[:count]
        plate_groups = chosen[1:] if count > 1 and _is_state(chosen[0].group(0)) else chosen
        last = chosen[-1].group(0)
        if count > 1 and len(last) == 1 and last.islower():
            continue  # "gaz-7490 r/pads": the r belongs to the next word
        value = "".join(g.group(0) for g in plate_groups)
        words = [g.group(0) for g in chosen if g.group(0).isalpha()]
        if (
            5 <= len(value) <= 8
            and any(c.isdigit() for c in value)
            and any(c.isalpha() for c in value)
            and not any(w.islower() and len(w) >= 4 for w in words)
        ):
            return chosen[-1].end()
    return 0


# --- the RO's own vault values ------------------------------------------------------------
_SEP = r"[\W_]{0,3}"
_TITLES = r"(?:mr|mrs|ms|miss|dr|mx)\.?\s++"
# Name parts that are also everyday words in a technician's note ("white smoke", "long
# crank"): alone, they count as a name only after a title or when capitalised mid-sentence.
_COMMON_WORDS = frozenset(
    [
        "white",
        "black",
        "brown",
        "green",
        "gray",
        "grey",
        "young",
        "long",
        "short",
        "will",
        "grant",
        "chase",
        "may",
        "june",
        "april",
        "rose",
        "wood",
        "woods",
        "king",
        "price",
        "hall",
        "hill",
        "lane",
        "field",
        "fields",
        "park",
        "parks",
        "rich",
        "love",
        "bell",
        "bush",
        "cross",
        "ford",
        "lincoln",
        "dodge",
        "jeep",
        "mercedes",
        "mini",
        "miles",
        "power",
        "powers",
        "page",
        "rice",
        "stone",
        "hunt",
        "banks",
        "cook",
        "hope",
        "joy",
        "mark",
        "bill",
        "frank",
        "guy",
        "jack",
        "sterling",
        "summer",
        "winter",
        "storm",
    ]
)
_STREET_TYPES = {
    "st": "st(?:reet)?",
    "street": "st(?:reet)?",
    "ave": "av(?:e(?:nue)?)?",
    "avenue": "av(?:e(?:nue)?)?",
    "rd": "r(?:oa)?d",
    "road": "r(?:oa)?d",
    "dr": "dr(?:ive)?",
    "drive": "dr(?:ive)?",
    "blvd": "b(?:ou)?l(?:e)?v(?:ar)?d",
    "boulevard": "b(?:ou)?l(?:e)?v(?:ar)?d",
    "ln": "l(?:a)?n(?:e)?",
    "lane": "l(?:a)?n(?:e)?",
    "ct": "c(?:our)?t",
    "court": "c(?:our)?t",
    "pl": "pl(?:ace)?",
    "place": "pl(?:ace)?",
    "hwy": "h(?:igh)?w(?:a)?y",
    "highway": "h(?:igh)?w(?:a)?y",
    "pkwy": "p(?:ar)?kw(?:a)?y",
    "parkway": "p(?:ar)?kw(?:a)?y",
    "cir": "cir(?:cle)?",
    "circle": "cir(?:cle)?",
    "way": "way",
    "ter": "ter(?:race)?",
    "terrace": "ter(?:race)?",
}
_TOKEN = re.compile(r"[A-Za-z0-9]+")


@functools.lru_cache(maxsize=8192)
def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Returning customers bring the same values back; compiling dominates otherwise."""
    return re.compile(pattern, flags)


def _tokens(value: str) -> list[str]:
    return _TOKEN.findall(value)


def _flexible(tokens: list[str]) -> str:
    return _SEP.join(re.escape(t) for t in tokens)


def _chars_flexible(value: str) -> str:
    chars = re.sub(r"[^A-Za-z0-9]", "", value)
    return r"[\s\-.]?".join(re.escape(c) for c in chars)


@dataclass(frozen=True, slots=True)
class _VaultPattern:
    kind: PiiKind
    pattern: re.Pattern[str]
    group: int = 0
    # Lowercase text every match contains: without it in the text, the pattern is skipped.
    needle: str | None = None


def _name_patterns(name: str) -> list[_VaultPattern]:
    tokens = _tokens(name)
    parts = [t for t in tokens if len(t) > 1]
    if not parts:
        return []
    whole = _compiled(_EDGE_L + _flexible(tokens) + _EDGE_R, re.I)
    out = [_VaultPattern(PiiKind.CUSTOMER_NAME, whole, needle=tokens[0].lower())]
    if len(parts) > 1:
        reversed_name = _flexible([parts[-1]]) + r"\s*+,\s*+" + _flexible(parts[:-1])
        backwards = _compiled(_EDGE_L + reversed_name + _EDGE_R, re.I)
        out.append(_VaultPattern(PiiKind.CUSTOMER_NAME, backwards, needle=parts[-1].lower()))
    for part in parts:
        if len(part) < 3:
            continue
        escaped = re.escape(part)
        if part.lower() in _COMMON_WORDS:
            titled = _EDGE_L + _TITLES + "(" + escaped + ")" + _EDGE_R
            out.append(
                _VaultPattern(PiiKind.CUSTOMER_NAME, _compiled(titled, re.I), 1, part.lower())
            )
            capitalised = r"(?<=[a-z,;]\s)(" + re.escape(part.capitalize()) + ")" + _EDGE_R
            out.append(
                _VaultPattern(PiiKind.CUSTOMER_NAME, _compiled(capitalised), 1, part.lower())
            )
        else:
            plain = _compiled(_EDGE_L + escaped + _EDGE_R, re.I)
            out.append(_VaultPattern(PiiKind.CUSTOMER_NAME, plain, needle=part.lower()))
    return out


def _street_pattern(street: str) -> tuple[str | None, str | None]:
    """The pattern, and the first word when every match holds it as typed."""
    tokens = _tokens(street)
    if len(tokens) < 2:
        return None, None
    pieces = [
        _STREET_TYPES.get(t.lower(), re.escape(t))
        if i == len(tokens) - 1 or t.lower() in _STREET_TYPES
        else re.escape(t)
        for i, t in enumerate(tokens)
    ]
    first = None if tokens[0].lower() in _STREET_TYPES else tokens[0]
    return _EDGE_L + _SEP.join(pieces) + r"\.?" + _EDGE_R, first


def _phone_pattern(phone: str) -> tuple[str | None, str | None]:
    """The pattern, and the last four digits, which every match of a full number holds."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return (_EDGE_L + _chars_flexible(phone) + _EDGE_R if len(digits) >= 7 else None), None
    a, b, c = digits[:3], digits[3:6], digits[6:]
    sep = r"[\s.\-]{0,2}"
    full = rf"(?:\+?1{sep})?\(?{a}\)?{sep}{b}{sep}{c}"
    return rf"(?<![\d])(?:{full}|{b}{sep}{c})(?!\d)", c


def _vault_patterns(vault: Mapping[str, Any]) -> list[_VaultPattern]:
    out: list[_VaultPattern] = []

    def add(kind: PiiKind, pattern: str | None, needle: str | None = None) -> None:
        if pattern:
            safe = needle.lower() if needle and needle.isascii() else None
            out.append(_VaultPattern(kind, _compiled(pattern, re.I), needle=safe))

    name = vault.get("customer_name") or vault.get("name")
    if isinstance(name, str):
        out.extend(_name_patterns(name))
    email = vault.get("email")
    if isinstance(email, str) and "@" in email:
        spaced = r"\s?".join(re.escape(c) for c in email.strip())
        add(PiiKind.EMAIL, _EDGE_L + spaced + _EDGE_R, "@")
        local = email.split("@", 1)[0]
        if len(local) >= 5:
            add(PiiKind.EMAIL, _EDGE_L + re.escape(local) + r"(?=\s?@|\s++at\s)", local)
    for phone in vault.get("phones") or []:
        if isinstance(phone, str):
            add(PiiKind.PHONE, *_phone_pattern(phone))
    address = vault.get("address")
    if isinstance(address, Mapping):
        street = address.get("street")
        if isinstance(street, str):
            add(PiiKind.ADDRESS, *_street_pattern(street))
        city = address.get("city")
        if isinstance(city, str) and len(city) >= 3 and city.lower() not in _COMMON_WORDS:
            city_tokens = _tokens(city)
            first = city_tokens[0] if city_tokens else None
            add(PiiKind.ADDRESS, _EDGE_L + _flexible(city_tokens) + _EDGE_R, first)
        zip_code = address.get("zip")
        if isinstance(zip_code, str) and re.fullmatch(r"\d{5}(?:-\d{4})?", zip_code.strip()):
            five = zip_code.strip()[:5]
            add(PiiKind.ADDRESS, r"(?<![\d\-])" + five + r"(?:-\d{4})?(?![\d\-])", five)
    vin = vault.get("vin")
    if isinstance(vin, str) and len(re.sub(r"\W", "", vin)) >= 11:
        add(PiiKind.VIN, _EDGE_L + _chars_flexible(vin) + _EDGE_R)
        tail = re.sub(r"\W", "", vin)[-8:]
        add(PiiKind.VIN, _EDGE_L + _chars_flexible(tail) + _EDGE_R)
    plate = vault.get("license_plate")
    if isinstance(plate, str):
        body = re.sub(
            r"[^A-Za-z0-9]", "", re.sub(r"^[A-Za-z]{2}[\s\-.]++(?=[^\s\d]*+\d)", "", plate.strip())
        )
        if len(body) >= 4:
            add(
                PiiKind.LICENSE_PLATE,
                _EDGE_L + r"(?:[A-Za-z]{2}[\s\-]++)?" + _chars_flexible(body) + _EDGE_R,
            )
    payment = vault.get("payment_method")
    if isinstance(payment, str):
        tokens = _tokens(payment)
        if tokens:
            add(PiiKind.PAYMENT, _EDGE_L + _flexible(tokens) + _EDGE_R, tokens[0])
        last = re.findall(r"\d{4,}", payment)
        if last:
            four = last[-1][-4:]
            add(PiiKind.PAYMENT, CARD_CONTEXT + "(" + re.escape(four) + r")(?!\d)", four)
            out[-1] = dataclasses.replace(out[-1], group=1)
    return out


# --- putting it together ------------------------------------------------------------------
class Scrubber:
    """Built once per RO (its vault values compile into patterns), applied to each field."""

    def __init__(self, vault: Mapping[str, Any] | None = None) -> None:
        self._vault = _vault_patterns(vault or {})

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        # Only on ASCII text is str.lower() exactly what re.IGNORECASE compares.
        lowered = text.lower() if self._vault and text.isascii() else None
        for vp in self._vault:
            if lowered is not None and vp.needle is not None and vp.needle not in lowered:
                continue
            for m in vp.pattern.finditer(text):
                if m.end(vp.group) > m.start(vp.group):
                    found.append(Finding(vp.kind, m.start(vp.group), m.end(vp.group), True))
        found.extend(_detect(text))
        return _merge(found)

    def scrub(self, text: str) -> ScrubResult:
        findings = self.find(text)
        out: list[str] = []
        cursor = 0
        for f in findings:
            out.append(text[cursor : f.start])
            out.append(placeholder(f.kind))
            cursor = f.end
        out.append(text[cursor:])
        return ScrubResult("".join(out), tuple(findings))

    def scrub_text(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text).text


def _merge(found: list[Finding]) -> list[Finding]:
    """Overlapping findings become one span, typed by the vault's finding if there is one."""
    merged: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start), not f.from_vault)):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            kind = last.kind if last.from_vault or not f.from_vault else f.kind
            merged[-1] = Finding(
                kind, last.start, max(last.end, f.end), last.from_vault or f.from_vault
            )
        else:
            merged.append(f)
    return merged


def scrub(text: str, vault: Mapping[str, Any] | None = None) -> str:
    return Scrubber(vault).scrub(text).text
