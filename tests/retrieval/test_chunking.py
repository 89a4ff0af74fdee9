"""Chunking: a header and one chunk per line, each within the embedder's token limit."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

from retrieval.chunking import MAX_TOKENS, LaborView, LineView, PartView, RoView, chunk_ro
from tests.samples import local_model


def view(complaint: str = "Brake pedal pulsates at highway speed.") -> RoView:
    line_a = LineView(
        uuid.uuid4(),
        "A",
        "completed",
        complaint,
        "Rotors 0.004 in runout.",
        "Replaced pads.",
        labor=(
            LaborView(
                "BRK-FR-PR",
                "Replace front pads and rotors",
                "Sam Ortiz",
                "412",
                Decimal("1.8"),
                Decimal("216.00"),
            ),
        ),
        parts=(PartView("04465-06200", "Front brake pad set", Decimal("1"), Decimal("89.50")),),
    )
    line_b = LineView(
        uuid.uuid4(),
        "B",
        "declined",
        "Rear tires at 3/32.",
        None,
        "Recommended rear tires; customer declined.",
    )
    return RoView(
        uuid.uuid4(),
        "48211",
        None,
        None,
        "closed",
        "Dana Ruiz",
        "T112",
        2018,
        "Toyota",
        "Camry",
        "Silver",
        61234,
        61240,
        {"total_due": Decimal("491.05")},
        (line_a, line_b),
    )


def test_a_header_and_one_chunk_per_line() -> None:
    ro = view()
    chunks = chunk_ro(ro, local_model().count_tokens)
    assert [(c.kind, c.line_id) for c in chunks] == [
        ("header", None),
        ("line", ro.lines[0].line_id),
        ("line", ro.lines[1].line_id),
    ]
    header, line_a, line_b = (c.content for c in chunks)
    assert "RO 48211" in header
    assert "2018 Toyota Camry" in header
    assert "$491.05" in header
    assert "Sam Ortiz (412)" in header
    assert "line A (completed)" in line_a
    assert "BRK-FR-PR" in line_a
    assert "04465-06200" in line_a
    assert "line B (declined)" in line_b


def test_long_stories_split_with_overlap_and_every_chunk_fits() -> None:
    model = local_model()
    story = " ".join(
        f"Step {i}: checked connector C{i} and harness routing near the firewall."
        for i in range(120)
    )
    chunks = [
        c
        for c in chunk_ro(view(story), model.count_tokens)
        if c.kind == "line" and c.line_id is not None and "Step" in c.content
    ]
    assert len(chunks) > 3
    assert all(c.token_count <= MAX_TOKENS for c in chunks)
    assert all(c.token_count == model.count_tokens(c.content) for c in chunks)
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    assert all(c.content.startswith("RO 48211 line A (completed)") for c in chunks)
    # Consecutive windows share words, so no sentence is cut without context.
    for first, second in itertools.pairwise(chunks):
        tail = first.content.split()[-4:]
        assert " ".join(tail) in second.content
    assert "Step 119:" in chunks[-1].content
