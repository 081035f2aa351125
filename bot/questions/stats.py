"""The numbers `/citebot stats` shows: questions, abstention rate, votes, latency."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.questions.store import LoggedQuestion


@dataclass(frozen=True)
class Stats:
    """Counts over a period of the questions log."""

    questions: int
    abstained: int
    up: int
    down: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def abstention_rate(self) -> float:
        return self.abstained / self.questions if self.questions else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "abstained": self.abstained,
            "abstention_rate": round(self.abstention_rate, 4),
            "up": self.up,
            "down": self.down,
            "latency_p50_ms": self.p50_ms,
            "latency_p95_ms": self.p95_ms,
        }


def compute(questions: Sequence[LoggedQuestion]) -> Stats:
    """Stats of these questions (votes: each person's latest on each answer)."""
    latencies = sorted(q.latency_ms for q in questions if q.latency_ms is not None)
    return Stats(
        questions=len(questions),
        abstained=sum(q.abstained for q in questions),
        up=sum(q.up for q in questions),
        down=sum(q.down for q in questions),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
    )


def percentile(ordered: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted values; None when there are none."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(float(ordered[rank - 1]), 1)
