"""The 👍/👎 votes on answers, as `citebot feedback` counts them from the questions log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FeedbackSummary:
    """Votes counted once per person and answer (their latest vote wins)."""

    votes: int
    up: int
    down: int
    answers: int
    first: str
    last: str
    most_downvoted: list[tuple[str, int]]

    def to_json(self) -> dict[str, Any]:
        return {
            "votes": self.votes,
            "up": self.up,
            "down": self.down,
            "answers": self.answers,
            "first": self.first,
            "last": self.last,
            "most_downvoted": [{"question": q, "down": n} for q, n in self.most_downvoted],
        }


def summarise(entries: list[dict[str, Any]], top: int = 5) -> FeedbackSummary:
    """Count votes, keeping each person's latest vote on each answer."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for item in sorted(entries, key=lambda e: str(e.get("time", ""))):
        latest[(str(item.get("message_id")), str(item.get("user")))] = item
    final = list(latest.values())
    down = Counter(str(e.get("question", "")) for e in final if e["vote"] == "down")
    times = sorted(str(e.get("time", "")) for e in entries)
    return FeedbackSummary(
        votes=len(final),
        up=sum(e["vote"] == "up" for e in final),
        down=sum(e["vote"] == "down" for e in final),
        answers=len({k[0] for k in latest}),
        first=times[0] if times else "",
        last=times[-1] if times else "",
        most_downvoted=down.most_common(top),
    )
