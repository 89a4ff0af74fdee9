"""The independent question set over real text (tests/eval/realshop): the retrieval quality
the product promises on data this project did not generate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from retrieval import evaluation
from tests.conftest import DemoService

REALSHOP = Path(__file__).parents[1] / "eval" / "realshop"
QUESTIONS = REALSHOP / "questions.jsonl"
FROZEN_SHA256 = "ad2ac75013dfee34b053fe39cb732f6f54904340634094b92415ce1210da69e7"
USER = "tech@realshop.example"


def test_the_set_is_the_frozen_one_and_covers_its_categories() -> None:
    assert hashlib.sha256(QUESTIONS.read_bytes()).hexdigest() == FROZEN_SHA256
    questions = evaluation.load(QUESTIONS)
    assert len(questions) >= 120
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.category] = counts.get(q.category, 0) + 1
    assert counts["ordinary_word"] >= 30
    assert {"vague", "misspelling", "follow_up", "no_answer"} <= set(counts)
    assert all(q.context for q in questions if q.category == "follow_up")


@pytest.fixture(scope="module")
def real_reports(demo_service: DemoService) -> dict[str, Any]:
    for args, stdin in (
        (("tenants", "create", "realshop", "--name", "Real Text Auto"), ""),
        (
            ("users", "create", "--tenant", "realshop", "--email", USER, "--role", "TECH"),
            "a-long-enough-password\n",
        ),
        (("ingest", "--tenant", "realshop", str(REALSHOP / "shop.jsonl")), ""),
        (("db", "index-shops"), ""),  # its own graph, as the background job gives it
    ):
        extra = ("--password-stdin",) if stdin else ()
        result = demo_service.cli(*args, *extra, stdin=stdin)
        assert result.returncode == 0, result.stderr[-2000:]
    reports: dict[str, Any] = {}
    for mode in ("hybrid", "vector", "exact"):
        result = demo_service.cli("eval", str(QUESTIONS), "--user", USER, "--mode", mode, "--json")
        assert result.returncode == 0, result.stderr[-2000:]
        reports |= json.loads(result.stdout)
    return reports


def test_hybrid_search_meets_the_targets_on_real_text(real_reports: dict[str, Any]) -> None:
    hybrid = real_reports["hybrid"]
    assert hybrid["answerable"] >= 120
    assert hybrid["recall@5"] >= 0.97
    assert hybrid["mrr"] >= 0.90
    assert hybrid["by_category"]["ordinary_word"]["recall@5"] >= 0.95


def test_the_index_finds_what_an_exact_scan_finds(real_reports: dict[str, Any]) -> None:
    assert real_reports["vector"]["recall@5"] >= real_reports["exact"]["recall@5"] - 0.03
