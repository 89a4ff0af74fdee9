"""What an ingest run says it did: counts by outcome, each rejection with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    INGESTED = "ingested"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Rejection:
    position: str
    ro_number: str | None
    reasons: tuple[str, ...]

    def describe(self) -> str:
        ro = f" (RO {self.ro_number})" if self.ro_number else ""
        return f"{self.position}{ro}: " + "; ".join(self.reasons)


@dataclass(slots=True)
class IngestReport:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    rejected: list[Rejection] = field(default_factory=list)
    # Records not reached because the run was asked to stop; a second run picks them up.
    not_reached: int = 0

    @property
    def interrupted(self) -> bool:
        return self.not_reached > 0

    @property
    def records(self) -> int:
        """Records the run got through, whatever became of them."""
        return sum(self.counts.values()) + len(self.rejected)

    def add(self, other: IngestReport) -> None:
        for outcome, n in other.counts.items():
            self.counts[outcome] += n
        self.rejected.extend(other.rejected)
        self.not_reached += other.not_reached

    def summary(self) -> str:
        return ", ".join(f"{o.value} {n}" for o, n in self.counts.items()) + (
            f", rejected {len(self.rejected)}"
        )
