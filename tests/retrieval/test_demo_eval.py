"""The shipped question set on the demo shops: the retrieval quality the product promises."""

from __future__ import annotations

import json
from pathlib import Path

from retrieval import evaluation
from tests.conftest import DemoService

QUESTIONS = Path(__file__).parents[1] / "eval" / "demo_questions.jsonl"


def test_the_question_set_is_well_formed() -> None:
    questions = evaluation.load(QUESTIONS)
    assert len(questions) >= 150
    categories = {q.category for q in questions}
    assert {
        "ro_number",
        "vin",
        "plate",
        "symptom_fix",
        "trouble_code",
        "part_number",
        "last_time",
        "declined_work",
        "technician",
        "no_answer",
    } <= categories
    assert all(len(q.expected_ro_numbers) <= 5 for q in questions)


def test_hybrid_search_meets_the_targets_and_beats_each_half(demo_service: DemoService) -> None:
    result = demo_service.cli(
        "eval", str(QUESTIONS), "--user", "tech@desert-auto.example", "--json"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    reports = json.loads(result.stdout)
    hybrid, vector, text = reports["hybrid"], reports["vector"], reports["text"]
    assert hybrid["recall@5"] >= 0.99
    assert hybrid["mrr"] >= 0.93
    assert hybrid["recall@5"] >= max(vector["recall@5"], text["recall@5"])
    assert hybrid["answerable"] == vector["answerable"] >= 150


def test_search_command_prints_results_and_refuses_an_empty_question(
    demo_service: DemoService,
) -> None:
    found = demo_service.cli(
        "search",
        "brake pedal pulsates at highway speed",
        "--user",
        "tech@desert-auto.example",
        "--k",
        "3",
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.count(" | score ") == 3
    empty = demo_service.cli("search", "  ", "--user", "tech@desert-auto.example")
    assert empty.returncode == 1
    assert empty.stderr.strip().splitlines() == ["Error: the question is empty"]
    nobody = demo_service.cli("search", "brakes", "--user", "ghost@nowhere.example")
    assert nobody.returncode == 1
    assert "no active user" in nobody.stderr


def test_eval_refuses_a_malformed_question_file(demo_service: DemoService, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x", "expected_ro_numbers": ["1"]}\n{"oops": 1}\n')
    result = demo_service.cli("eval", str(bad), "--user", "tech@desert-auto.example")
    assert result.returncode == 1
    assert "bad.jsonl:2" in result.stderr
