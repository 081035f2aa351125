"""A model's answer as it streams, passed on one verified sentence at a time.

Tokens are held until the sentence they belong to is complete (or, for a fenced code block, until
the fence closes); the sentence is then checked against the passages it cites, as the whole answer
will be (bot/answering/verify.py), and passed on only if it is supported. So a user watching the
answer being written never sees a claim the checker would withhold, nor half a sentence. Markers
are renumbered in order of use among the sentences shown, as the final answer numbers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.answering.screen import code_in
from bot.answering.verify import (
    FENCE_LINE,
    MIN_CLAIM_TERMS,
    SPACE_BEFORE_STOP,
    PassageSupport,
    finished_part,
    marker_numbers,
    markers_before_stops,
)
from bot.schema import Passage
from bot.text import CITATION_MARKER, content_terms, split_sentences, strip_citations

SentenceFn = Callable[[str], None]

#: Once this many more sentences have been held back than shown, the answer cannot be kept (the
#: screen keeps a model's answer only when it shows at least as many as it withholds, and an answer
#: is a few sentences): reading on would only cost the user seconds.
GIVE_UP_DEFICIT = 2

_MARKER_TAIL = re.compile(r"^[\s\[\]\d,;]*$")  # what may still turn into a marker of the sentence before


class SentenceStream:
    """Feed it the model's pieces; it calls ``emit`` with each verified sentence (and its spacing).

    With no ``emit`` it only counts, so that ``hopeless`` can end a model's answer early.
    """

    def __init__(self, passages: Sequence[Passage], support: PassageSupport, emit: SentenceFn | None = None) -> None:
        self._passages = list(passages)
        self._support = support
        self._emit = emit
        self._buffer = ""
        self._renumber: dict[int, int] = {}
        self.shown = 0  # sentences and code blocks passed on
        self.held = 0  # claims and code blocks held back

    def feed(self, piece: str) -> None:
        self._buffer += piece
        self._drain(final=False)

    @property
    def hopeless(self) -> bool:
        """Whether so much has been held back that the answer will not be kept, whatever follows."""
        return self.held - self.shown >= GIVE_UP_DEFICIT

    def close(self, finished: bool = True) -> None:
        """The stream ended: check what is left. Cut off (``finished`` false), an unfinished
        sentence or code block at the end is dropped, not shown as if it were whole."""
        if not finished:
            self._buffer = finished_part(self._buffer)
        self._drain(final=True)

    def _drain(self, final: bool) -> None:
        while True:
            text = markers_before_stops(self._buffer)
            body = text.lstrip()
            if not body:
                self._buffer = "" if final else text
                return
            if body.startswith("```"):
                self._buffer = body
                if not self._take_code(final):
                    return
                continue
            fence = FENCE_LINE.search(text, len(text) - len(body))
            prose_end = fence.start() if fence else len(text)
            sentences = split_sentences(text[:prose_end])
            first = sentences[0]
            tail = text[first.end : prose_end]
            if len(sentences) > 1 and not _MARKER_TAIL.match(tail):
                following = sentences[1].start
            elif fence is not None or final:
                following = prose_end
            else:
                self._buffer = text
                return  # the sentence may go on, or a marker of it may still come
            between = text[first.end : following]
            spacing = "\n\n" if "\n\n" in between else "\n" if "\n" in between else " "
            self._buffer = text[following:]
            self._check_sentence(text[first.start : first.end], spacing)

    def _take_code(self, final: bool) -> bool:
        """Pass on (or hold back) the code block the buffer starts with, once its fence closes."""
        lines = self._buffer.split("\n")
        closing = next((i for i, line in enumerate(lines[1:], 1) if line.strip().startswith("```")), None)
        if closing is None:
            if not final:
                return False
            self.held += 1  # cut off inside the block
            self._buffer = ""
            return True
        block = "\n".join(lines[: closing + 1])
        self._buffer = "\n".join(lines[closing + 1 :])
        if code_in(block, self._passages):
            self.shown += 1
            if self._emit is not None:
                self._emit(block.strip() + "\n\n")
        else:
            self.held += 1
        return True

    def _check_sentence(self, raw: str, spacing: str) -> None:
        numbers = marker_numbers(raw)
        cited = [n for n in dict.fromkeys(numbers) if 1 <= n <= len(self._passages)]
        plain = " ".join(strip_citations(raw).split())
        if not plain:
            return
        if numbers and not cited:
            self.held += 1  # its markers name no passage ("See also [7]."): debris without them
            return
        if cited:
            scores = self._support.scores([plain])[0]
            if not any(scores[n - 1][0] >= self._support.threshold for n in cited):
                self.held += 1
                return
        elif len(content_terms(plain)) >= MIN_CLAIM_TERMS:
            self.held += 1  # a fact with no citation
            return
        for n in cited:
            self._renumber.setdefault(n, len(self._renumber) + 1)

        def replace(match: re.Match[str]) -> str:
            parts = dict.fromkeys(marker_numbers(match.group(0)))
            return "".join(f"[{self._renumber[n]}]" for n in parts if n in self._renumber)

        text = CITATION_MARKER.sub(replace, raw.strip())
        text = SPACE_BEFORE_STOP.sub(r"\1", text)
        self.shown += 1
        if self._emit is not None:
            self._emit(text + spacing)
