"""Misspelt names: technicians type fast ("nisan rouge", "fored focas"), and a vehicle name
that is one keystroke off still says which vehicle is meant."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

MIN_LENGTH = 4  # shorter words are one keystroke from too many others
_WORD = re.compile(r"[a-z]+")


def one_typo_apart(word: str, other: str) -> bool:
    """One letter wrong, missing, extra, or two neighbours swapped ("histroy")."""
    if word == other or abs(len(other) - len(word)) > 1:
        return False
    if len(other) == len(word):
        diff = [i for i, (a, b) in enumerate(zip(word, other, strict=True)) if a != b]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and word[diff[0]] == other[diff[1]]
            and word[diff[1]] == other[diff[0]]
        )
    short, long_ = sorted((word, other), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def candidates(text: str) -> list[str]:
    """The words long enough to be a misspelt name."""
    return list(dict.fromkeys(w for w in _WORD.findall(text.lower()) if len(w) >= MIN_LENGTH))


def respell(text: str, unknown: Collection[str], names: Iterable[str]) -> str:
    """`text` with each word the shop has never written (`unknown`) replaced by the one name
    it is a typo of; a word near two names is left alone."""
    vocabulary = {w for name in names for w in _WORD.findall(name.lower()) if len(w) >= MIN_LENGTH}

    def fix(m: re.Match[str]) -> str:
        word = m[0].lower()
        if word not in unknown or word in vocabulary:
            return m[0]
        near = [name for name in vocabulary if one_typo_apart(word, name)]
        return near[0] if len(near) == 1 else m[0]

    return re.sub(r"(?i)[a-z]+", fix, text)
