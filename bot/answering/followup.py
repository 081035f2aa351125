"""Follow-up questions without an LLM: carry the conversation's subject into the retrieval query.

"why did BlackBerry leave Pakistan?" then "when will it stop operating there?": the second question
names neither BlackBerry nor Pakistan. When a question leans on pronouns ("it", "there") or opens with
"and" / "what about", the subject of the previous questions is appended to it: their names (BlackBerry,
``--time_limit``, pydantic-core) and, given the index, the words most of the folder is about (``celery``,
``httpx``: a project's own name, lower case as people type it). The previous question's topic
("timeout" in "how do I set a timeout in httpx?") is carried only into a follow-up too thin to search
on its own ("and the default?"): "what about retries?" asks about retries, not timeouts. A bare number
("4 processes", "10 minutes") is a detail of that topic, carried only the same way. The question
itself stays first, so its wording ("when", "why") still decides what kind of fact is wanted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answering.focus import COMMON_SHARE, RarityFn, share_of_chunks
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
_BE = frozenset("is are was were isn't aren't wasn't weren't".split())
_NEW_TOPIC = re.compile(r"^\s*(what|how) about\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d.,]*(st|nd|rd|th|s|m|h|gb|mb|kb|%)?", re.IGNORECASE)


def is_follow_up(question: str) -> bool:
    """True when ``question`` probably depends on the conversation (pronouns, or too few terms)."""
    tokens = [w.lower().replace("’", "'") for w in words(question)]
    if any(t in _REFERRING and not _expletive(tokens, i) for i, t in enumerate(tokens)):
        return True
    if re.match(r"^\s*(and|but|also|so|what about|how about|then)\b", question, re.IGNORECASE):
        return True
    return len(content_terms(question)) <= _SHORT


def _expletive(tokens: Sequence[str], i: int) -> bool:
    """Whether ``tokens[i]`` is the "there" of "is there a way…" / "there are two…", which points at nothing."""
    if tokens[i] != "there":
        return False
    before = tokens[i - 1] if i > 0 else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    return before in _BE or after in _BE | {"be", "been"}  # "will there be", "has there been"


def contextual_query(question: str, history: Sequence[Turn], rarity: RarityFn | None = None) -> str:
    """The retrieval query for ``question`` given the earlier turns (oldest first).

    A standalone question is returned unchanged; a follow-up gets the subject of the previous questions
    appended (walking back past earlier follow-ups, up to ``HISTORY_TURNS`` turns), and their topic too
    when it is too thin to search on its own. ``rarity``: the index's term rarity, which tells the words
    the folder is about (a subject) from the rest; words it never holds are not carried ("what about
    UUID?" after "does it ship an IBAN type?" asks about UUID, not about the IBAN the documents lack).
    """
    if not history or not is_follow_up(question):
        return question
    # "what about retries?" names its own topic, however short: the earlier one is not carried into it
    thin = len(content_terms(question)) <= (0 if _NEW_TOPIC.match(question) else _SHORT)
    have = {stem(w) for w in words(question)}
    extra: list[str] = []
    for turn in reversed(history[-HISTORY_TURNS:]):
        terms = salient_terms(turn.question, rarity, topic=thin)
        if rarity is not None and terms:  # a word the index never holds finds nothing, and would read as asked
            parts = {term: content_terms(term) for term in terms}
            known = rarity([t for ts in parts.values() for t in ts])
            terms = [term for term in terms if all(t in known for t in parts[term])]
        for term in terms:
            if stem(term) not in have and len(extra) < _MAX_CONTEXT_TERMS:
                have.add(stem(term))
                extra.append(term)
        if not is_follow_up(turn.question):
            break  # this question named its subject; older turns are about something else
    return f"{question} {' '.join(extra)}" if extra else question


def salient_terms(question: str, rarity: RarityFn | None = None, *, topic: bool = True) -> list[str]:
    """The words of a question worth carrying forward: its names, and the words the folder is about; with
    ``topic``, its numbers and (when it has no names) its other content words too.

    Only names when there are some: "leave" from "why did BlackBerry leave Pakistan?" would pull a
    follow-up about dates back towards the passage about reasons.
    """
    raw = words(question)
    names, numbers, others = [], [], []
    for i, w in enumerate(raw):
        if not content_terms(w) or w.lower() in _REFERRING:
            continue
        inner_capital = any(ch.isupper() for ch in w[1:])
        if _NUMBER.fullmatch(w):
            numbers.append(w)
        elif (w[0].isupper() and i > 0) or inner_capital or any(ch.isdigit() for ch in w):
            names.append(w)
        else:
            others.append(w)
    if topic:
        return list(dict.fromkeys([*names, *numbers, *([] if names else others)]))
    return list(dict.fromkeys([*names, *_common_words(others, rarity)]))


def _common_words(candidates: Sequence[str], rarity: RarityFn | None) -> list[str]:
    """The words held by more than ``COMMON_SHARE`` of the index's chunks: what the folder is about."""
    if rarity is None or not candidates:
        return []
    terms = {w: content_terms(w)[0] for w in candidates if content_terms(w)}
    known = rarity(list(set(terms.values())))
    return [w for w, t in terms.items() if t in known and share_of_chunks(known[t]) > COMMON_SHARE]
