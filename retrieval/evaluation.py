"""The retrieval eval: questions with the ROs that answer them -> recall@k, MRR, latency."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KS = (1, 5, 10)


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    expected_ro_numbers: tuple[str, ...]
    expected_lines: tuple[str, ...] = ()
    category: str = ""
    context: tuple[str, ...] = ()  # a follow-up's earlier questions, oldest first


@dataclass(frozen=True, slots=True)
class Answer:
    question: Question
    ranked_ro_numbers: tuple[str, ...]
    latency_ms: float


@dataclass(frozen=True, slots=True)
class Report:
    questions: int
    answerable: int
    recall: dict[int, float]
    mrr: float
    latency_p50_ms: float
    latency_p95_ms: float
    by_category: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "answerable": self.answerable,
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr": round(self.mrr, 4),
            "latency_p50_ms": round(self.latency_p50_ms, 2),
            "latency_p95_ms": round(self.latency_p95_ms, 2),
            "by_category": self.by_category,
        }


def load(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            questions.append(
                Question(
                    question=str(raw["question"]),
                    expected_ro_numbers=tuple(str(x) for x in raw["expected_ro_numbers"]),
                    expected_lines=tuple(str(x) for x in raw.get("expected_lines") or ()),
                    category=str(raw.get("category") or ""),
                    context=tuple(str(x) for x in raw.get("context") or ()),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name}:{number}: not a question line ({exc})") from None
    return questions


def ranked_ros(ro_numbers: Sequence[str]) -> tuple[str, ...]:
    """Chunk hits in rank order -> distinct RO numbers in rank order."""
    return tuple(dict.fromkeys(ro_numbers))


def recall_at(answer: Answer, k: int) -> float:
    expected = set(answer.question.expected_ro_numbers)
    found = expected & set(answer.ranked_ro_numbers[:k])
    return len(found) / min(len(expected), k)


def reciprocal_rank(answer: Answer) -> float:
    expected = set(answer.question.expected_ro_numbers)
    for rank, ro in enumerate(answer.ranked_ro_numbers, start=1):
        if ro in expected:
            return 1.0 / rank
    return 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(answers: Sequence[Answer]) -> Report:
    answerable = [a for a in answers if a.question.expected_ro_numbers]
    latencies = [a.latency_ms for a in answers]
    categories: dict[str, list[Answer]] = {}
    for a in answerable:
        categories.setdefault(a.question.category or "-", []).append(a)
    return Report(
        questions=len(answers),
        answerable=len(answerable),
        recall={
            k: statistics.fmean(recall_at(a, k) for a in answerable) if answerable else 0.0
            for k in KS
        },
        mrr=statistics.fmean(reciprocal_rank(a) for a in answerable) if answerable else 0.0,
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
        by_category={
            name: {
                "n": len(group),
                "recall@5": round(statistics.fmean(recall_at(a, 5) for a in group), 3),
                "mrr": round(statistics.fmean(reciprocal_rank(a) for a in group), 3),
            }
            for name, group in sorted(categories.items())
        },
    )
