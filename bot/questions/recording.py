"""Asking a question and logging it: what every front end (CLI ask, chat, Discord) calls.

Only what a user would expect is kept: the question, where it was asked, what was searched, whether
citebot abstained, the documents it cited and found, and how long it took. Never the answer text or
any other message; a Discord user id only as a salted hash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.questions.store import NewQuestion, QuestionLog
from bot.schema import Answer, Turn
from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """An answer and the id of its row in the questions log (None when not logged)."""

    answer: Answer
    question_id: int | None
    latency_ms: float


def entry_for(
    result: Answer,
    history: Sequence[Turn],
    *,
    origin: str,
    collection: str,
    latency_ms: float,
    channel: int | None = None,
    user: str | None = None,
) -> NewQuestion:
    """The log row for one answer."""
    return NewQuestion(
        origin=origin,
        collection=collection,
        question=result.question,
        condensed=result.query or result.question,  # as it was searched (by the model, when it condensed it)
        abstained=result.abstained,
        cited=[c.passage.source for c in result.citations],
        passages=[(p.source, p.section) for p in result.passages],
        latency_ms=latency_ms,
        channel=channel,
        user=user,
    )


def ask_and_log(
    services: Services,
    question: str,
    history: Sequence[Turn] = (),
    k: int | None = None,
    *,
    origin: str,
    channel: int | None = None,
    user_id: int | None = None,
    on_sentence: Callable[[str], None] | None = None,
) -> Asked:
    """``services.ask`` and, when the log is on, one row recording it (a log problem never stops the answer)."""
    t0 = time.perf_counter()
    result = (
        services.ask(question, history, k, on_sentence=on_sentence)
        if on_sentence
        else services.ask(question, history, k)
    )
    latency = (time.perf_counter() - t0) * 1000
    questions = services.questions
    if questions is None:
        return Asked(result, None, latency)
    qid = record(
        questions,
        result,
        history,
        origin=origin,
        collection=services.settings.collection,
        latency_ms=latency,
        channel=channel,
        user_id=user_id,
    )
    return Asked(result, qid, latency)


def record(
    questions: QuestionLog,
    result: Answer,
    history: Sequence[Turn],
    *,
    origin: str,
    collection: str,
    latency_ms: float,
    channel: int | None = None,
    user_id: int | None = None,
) -> int | None:
    """Log one answer; None when it was not recorded (the reason was logged)."""
    try:
        user = questions.hash_user(user_id) if user_id is not None else None
        return questions.record(
            entry_for(
                result, history, origin=origin, collection=collection, latency_ms=latency_ms, channel=channel, user=user
            )
        )
    except OSError as exc:  # the salt file could not be read: the answer still goes out
        log.warning("could not log the question: %s", exc)
        return None
