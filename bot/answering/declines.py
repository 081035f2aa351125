"""The replies that do not answer: "not found", "not directly", and "not covered, only mentioned".

A reply that declines cites nothing: ``[n]`` markers would look like support for a claim it does
not make. It names the pages a reader could look at instead, as links (or paths where the folder
has no site), so that the help channel still gets somewhere.
"""

from __future__ import annotations

from bot.answering.evidence import Evidence
from bot.answering.quoting import Composed, fit
from bot.schema import Passage

NOT_FOUND = "I could not find this in the documents."
WEAK_LEAD = "The documents don't answer this directly. The closest pages:"
#: Pages a declining reply points to.
CLOSEST_PAGES = 3

_PLACES = {
    "release notes": "only in the release notes",
    "a list": "only in a list",
    "an aside": "only in a note",
    "a link": "only with a link elsewhere",
    "passing": "only in passing",
}


def not_found() -> Composed:
    return Composed(NOT_FOUND, True, [])


def page_line(passage: Passage, quote: str = "") -> str:
    """``- Title › Section (link)``: where a passage is, as a reader would follow it."""
    name = passage.label
    if passage.section and passage.section != name:
        name = f"{name} › {passage.section}"
    place = passage.url or passage.where
    line = f"- {name} ({place})" if place != name else f"- {name}"
    return f"{line}: “{quote}”" if quote else line


def mention_answer(evidence: Evidence, chunks: int | None) -> Composed:
    """Not answered: the documents at most mention what the question asks about. Say so, and where.

    ``chunks``: only the names at most this many chunks of the index hold (None: every name only mentioned).
    """
    rare = {f.text for f in evidence.focus.terms if chunks is None or (f.chunks is not None and f.chunks <= chunks)}
    mentions = [m for m in evidence.focus.mentions if m.term in rare]
    if not mentions:
        return not_found()
    m = mentions[0]
    passage = evidence.passages[m.passage_rank]
    text = (
        f"The documents don't cover {m.term}; they mention it {_PLACES.get(m.place, 'only in passing')}:\n"
        f"{page_line(passage, m.sentence)}"
    )
    return Composed(text, True, [])


def unseen_answer(evidence: Evidence, max_chars: int) -> Composed:
    """Not answered: the question asks about names the documents never say. Say which, and link the closest."""
    names = " or ".join(evidence.focus.unseen)
    return _closest(evidence, f"The documents don't mention {names}. The closest pages:", max_chars)


def weak_answer(evidence: Evidence, max_chars: int) -> Composed:
    """Evidence too weak to answer but not absent: say so, and link the closest sections."""
    return _closest(evidence, WEAK_LEAD, max_chars)


def _closest(evidence: Evidence, lead: str, max_chars: int) -> Composed:
    """``lead``, then the closest sections as links (or "not found" when the passages offer none)."""
    lines = [lead]
    seen: set[tuple[str, str]] = set()
    for s in evidence.sentences:
        passage = evidence.passages[s.passage_rank]
        key = (passage.source, passage.section)
        if key in seen:
            continue
        seen.add(key)
        lines.append(page_line(passage))
        if len(seen) >= CLOSEST_PAGES:
            break
    if len(lines) == 1:
        return not_found()
    return Composed(fit("\n".join(lines), max_chars), True, [])
