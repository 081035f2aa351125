"""What of a model's answer reaches the user: its verified sentences, never an unverified claim.

A sentence whose citations do not support it (or that states a fact without a citation) is taken
out, and so is a code block that none of the passages holds (a model inventing a setting or an
API); what is left is checked again, so the markers are numbered in order of use in the text that
is shown. ``prefer_model`` then decides between that and the extractive answer: a model whose
verified part says less than the extractive answer never makes citebot worse than no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.extractive import Composed
from bot.answering.verify import CODE_FENCE, EmbedFn, PassageSupport, Verified, marker_numbers, verify_answer
from bot.schema import Passage
from bot.text import CITATION_MARKER


@dataclass(frozen=True)
class Screened:
    """The shown part of a model's answer, checked again, and how much was taken out."""

    verified: Verified  # every claim in ``verified.text`` is supported
    kept: int  # supported claims shown
    withheld: int  # claims and code blocks taken out

    @property
    def notice(self) -> str:
        """One line for the user when something was taken out, else empty."""
        if not self.withheld:
            return ""
        one = self.withheld == 1
        what = "sentence of the model's answer was" if one else "sentences of the model's answer were"
        return f"{self.withheld} {what} withheld: the passages do not support {'it' if one else 'them'}"


def screen(
    checked: Verified, passages: Sequence[Passage], embed: EmbedFn | None, support: PassageSupport | None = None
) -> Screened:
    """``checked`` (a model's answer after ``verify_answer``) with its unsupported parts taken out."""
    support = support or PassageSupport(passages, embed)
    withheld = 0
    for _ in range(3):  # taking a sentence out can change how its neighbours split; settle in a few rounds
        cuts = [(c.start, c.end) for c in checked.claims if not c.supported]
        cuts += [(m.start(), m.end()) for m in CODE_FENCE.finditer(checked.text) if not code_in(m.group(0), passages)]
        if not cuts:
            break
        withheld += len(cuts)
        shown = _without(checked.text, cuts)
        checked = verify_answer(_prompt_numbers(shown, checked, passages), passages, embed, support)
    kept = sum(c.supported for c in checked.claims)
    return Screened(checked, kept, withheld)


def prefer_model(screened: Screened, extractive: Composed) -> bool:
    """Whether the model's screened answer is shown rather than the ``extractive`` answer.

    It must keep at least one verified sentence, no fewer than it withheld (an answer mostly taken
    out reads as fragments), and one of them must come from a passage the extractive answer quotes,
    those that hold what the question asks for: a model that answers only from other passages
    (background, a neighbouring topic) would say less than no model.
    """
    if screened.kept == 0 or screened.kept < screened.withheld:
        return False
    if not extractive.citations:
        return True
    decisive = {c.passage.chunk_id for c in extractive.citations}
    return any(c.passage.chunk_id in decisive for c in screened.verified.citations if c.supported)


def code_in(block: str, passages: Sequence[Passage]) -> bool:
    """Whether a fenced code block's code is in one of the passages (whitespace aside)."""
    lines = block.strip().splitlines()[1:-1]
    code = " ".join(" ".join(lines).split())
    if not code:
        return False
    return any(code in " ".join(p.text.split()) for p in passages)


def _without(text: str, cuts: list[tuple[int, int]]) -> str:
    """``text`` with the spans cut out and the space they leave closed up."""
    out = []
    at = 0
    for start, end in sorted(cuts):
        if start < at:
            continue
        out.append(text[at:start])
        at = end
    out.append(text[at:])
    shown = "".join(out)
    shown = re.sub(r"[ \t]{2,}", " ", shown)
    shown = re.sub(r"[ \t]+\n", "\n", shown)
    shown = re.sub(r"\n{3,}", "\n\n", shown)
    return shown.strip()


def _prompt_numbers(text: str, checked: Verified, passages: Sequence[Passage]) -> str:
    """``text``'s markers, numbered by citation id, put back to the passages' numbers in the prompt."""
    index = {id(p): n for n, p in enumerate(passages, 1)}
    number = {c.id: index[id(c.passage)] for c in checked.citations}

    def replace(match: re.Match[str]) -> str:
        return "".join(f"[{number[i]}]" for i in marker_numbers(match.group(0)) if i in number)

    return CITATION_MARKER.sub(replace, text)
