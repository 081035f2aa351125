"""Before saying the documents don't cover what a question names, look for that subject's own section.

Retrieval ranks chunks by the whole question. A question phrased around a symptom or a task
("does the client work with asyncpg?", "using it behind Traefik") can rank generic passages above
the one section the documents give the subject it names. So when a focus of the question
(bot/answering/focus.py) is not covered by the passages retrieved, the index is searched for the
name alone (keyword ranking over title, section and text: a section named by it ranks first), and
the first chunk that covers it takes the weakest passage's place. Only when none does may the
answer say the documents don't cover it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.answering.focus import (
    MAX_FOCUS,
    CountFn,
    RarityFn,
    asks_change,
    focus_status,
    focus_terms,
    is_release_notes,
)
from bot.answering.names import asking_part
from bot.schema import Passage

#: Looks a name up in the index: the ``n`` chunks that rank best for it alone.
LookupFn = Callable[[str, int], list[Passage]]
#: Chunks read per name looked up.
LOOKUP = 6


def with_subject_sections(
    question: str,
    passages: Sequence[Passage],
    lookup: LookupFn,
    rarity: RarityFn | None,
    counts: CountFn | None = None,
    widen: Callable[[Sequence[Passage]], list[Passage]] | None = None,
) -> list[Passage]:
    """``passages``, with the section covering each focus they do not cover in place of the weakest ones."""
    out = list(passages)
    if not out:
        return out
    # Not for lowercase names: "from pytest" swapped a pydantic page's pytest section in for the answer (techdocs).
    terms = focus_terms(question, rarity, counts, lowercase=False)
    if not terms or len(terms) > MAX_FOCUS:
        return out
    about_change = asks_change(question)
    asked = question[asking_part(question) :]
    shown = {p.chunk_id for p in out}
    found: list[Passage] = []
    for term in terms:
        status = focus_status(term, out, about_change)[0]
        if status == "covered":
            continue
        mention: Passage | None = None
        for hit in lookup(term.text, LOOKUP):
            if hit.chunk_id in shown:
                continue
            hit_status = focus_status(term, [hit], about_change)[0]
            if hit_status == "covered":
                found.append(hit)
                shown.add(hit.chunk_id)
                break
            if hit_status == "mentioned" and mention is None and is_release_notes(hit):
                mention = hit
        else:
            # No section of its own, only release notes name it: that line is shown when no passage says the
            # name at all, so that the answer can say the documents mention it only in their release notes.
            # Not for a name in the setting the asker describes first ("... eats all the RAM, how do I ...").
            if mention is not None and status == "absent" and term.text in asked:
                found.append(mention)
                shown.add(mention.chunk_id)
    if not found:
        return out
    if widen is not None:
        found = widen(found)
    keep = max(1, len(out) - len(found))  # the retrieved passages' best stay
    return [*out[:keep], *found]
