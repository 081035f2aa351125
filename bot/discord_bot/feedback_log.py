"""What the Discord bot remembers of an answer it posted, for the votes and reports given on it.

Votes themselves live in the questions log (bot/questions/store.py); `citebot feedback` counts them
there (bot/questions/votes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.schema import Answer


@dataclass(frozen=True)
class AnswerRecord:
    """What a vote is about: the question, the answer text and its sources."""

    question: str
    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_answer(cls, result: Answer) -> AnswerRecord:
        return cls(
            question=result.question,
            answer=result.text,
            sources=[
                {
                    "id": c.id,
                    "source": c.passage.path,
                    "title": c.passage.title,
                    "url": c.passage.url,
                    "quote": c.quote,
                }
                for c in result.citations
            ],
        )
