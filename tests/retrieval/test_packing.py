"""Context packing: within budget, best first, whole chunks, numbered citations."""

from __future__ import annotations

import uuid
from datetime import date

from retrieval.packing import pack
from retrieval.search import Hit
from retrieval.tokens import count_tokens


def hit(ro: str, content: str, score: float) -> Hit:
    return Hit(
        uuid.uuid4(),
        uuid.uuid4(),
        ro,
        "A",
        "completed",
        date(2024, 3, 2),
        "2018 Toyota Camry",
        "line",
        content,
        score,
        1,
        None,
    )


def test_packs_best_first_within_budget_with_citations() -> None:
    hits = [
        hit("1", "short story about pads", 0.9),
        hit("2", "word " * 400, 0.8),
        hit("3", "another short story about rotors", 0.7),
        hit("4", "short story about pads", 0.6),
    ]
    packed = pack(hits, budget_tokens=60)
    assert [c.ro_number for c in packed.citations] == ["1", "3"]
    assert [c.number for c in packed.citations] == [1, 2]
    assert packed.tokens <= 60
    assert packed.left_out == 1
    assert packed.text.startswith("[1] RO 1 line A (2024-03-02, 2018 Toyota Camry)")
    assert "[2] RO 3 line A" in packed.text
    assert count_tokens(packed.text) <= packed.tokens + 2


def test_nothing_to_pack() -> None:
    packed = pack([], budget_tokens=100)
    assert (packed.text, packed.citations, packed.tokens) == ("", (), 0)
