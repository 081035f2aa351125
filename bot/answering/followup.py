"""Follow-up questions without an LLM: carry the conversation's subject into the retrieval query.

"why did BlackBerry leave Pakistan?" then "when will it stop operating there?": the second question
names neither BlackBerry nor Pakistan. When a question is short or leans on pronouns, the salient
terms of the previous questions (names first) are appended to it, so retrieval and sentence
scoring see the subject. The question itself stays first, so its wording ("when", "why") still
decides what kind of fact is wanted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.schema import HISTORY_TURNS, Turn
from bot.text import content_terms, stem, words

#: Words that point back into the conversation instead of naming their subject.
_REFERRING = frozenset(
    """
    it its it's itself they them their theirs themselves there here he him his she her hers this that these those
    such same former latter company firm country city person people group one ones
    """.split()
)
#: A question with at most this many content terms is too thin to search for on its own
#: ("when?", "how many employees?"); "what is a tide pool?" names its own subject.
_SHORT = 1
_MAX_CONTEXT_TERMS = 6


def is_follow_up(question: str) -> bool:
    """True when ``question`` probably depends on the conversation (pronouns, or too few terms)."""
    tokens = [w.lower().replace("’", "'") for w in words(question)]
    if any(t in _REFERRING for t in tokens):
        return True
    if re.match(r"^\s*(and|but|also|so|what about|how about|then)\b", question, re.IGNORECASE):
        return True
    return len(content_terms(question)) <= _SHORT


def contextual_query(question: str, history: Sequence[Turn]) -> str:
    """The retrieval query for ``question`` given the earlier turns (oldest first).

    A standalone question is returned unchanged; a follow-up gets the salient terms of the
    previous questions appended (walking back past earlier follow-ups, up to ``HISTORY_TURNS`` turns).
    """
    if not history or not is_follow_up(question):
        return question
    have = {stem(w) for w in words(question)}
    extra: list[str] = []
    for turn in reversed(history[-HISTORY_TURNS:]):
        for term in salient_terms(turn.question):
            if stem(term) not in have and len(extra) < _MAX_CONTEXT_TERMS:
                have.add(stem(term))
                extra.append(term)
        if not is_follow_up(turn.question):
            break  # this question named its subject; older turns are about something else
    return f"{question} {' '.join(extra)}" if extra else question


def salient_terms(question: str) -> list[str]:
    """The words of a question worth carrying forward: its names and numbers, else its content words.

    Only names when there are some: "leave" from "why did BlackBerry leave Pakistan?" would pull a
    follow-up about dates back towards the passage about reasons.
    """
    raw = words(question)
    names, others = [], []
    for i, w in enumerate(raw):
        if not content_terms(w) or w.lower() in _REFERRING:
            continue
        inner_capital = any(ch.isupper() for ch in w[1:])
        if (w[0].isupper() and i > 0) or inner_capital or any(ch.isdigit() for ch in w):
            names.append(w)
        else:
            others.append(w)
    return list(dict.fromkeys(names or others))
