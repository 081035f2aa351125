"""Small text helpers shared by the answerers: sentences with offsets, content terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])|\n\s*\n\s*|\n")
_ENDS = re.compile(r"[.!?…:][\"”’')\]]*$")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
_ABBREVIATIONS = re.compile(
    r"\b(Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Ltd|Co|Corp|vs|etc|e\.g|i\.e|U\.S|No|Gen|Gov|Sen|Rep)\.$"
)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just let me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours yourself
    yourselves said says say according s t don doesn didn won wasn weren isn hasn haven hadn shouldn wouldn
    couldn mustn ve ll re d m o y ain tell know give get got one two many much did does did new like also well
    even still yet via per article articles report reported reports reporting news
    """.split()
)


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the text it was split from
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences (and headings) of ``text`` with their character offsets.

    Blank lines always end a sentence; a single line break ends one only after end punctuation
    or a short heading-like line, so hard-wrapped paragraphs read as whole sentences.
    """
    out: list[Sentence] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sep = match.group(0)
        end = match.start() + (len(sep) - len(sep.lstrip("\"”’')]")))
        piece = text[start:end].strip()
        if sep == "\n":
            last_line = piece.rsplit("\n", 1)[-1]
            following = text[match.end() : match.end() + 1]
            heading = len(last_line.split()) <= 8 and not following.islower()
            if not (_ENDS.search(last_line) or heading):
                continue  # a wrapped line: the sentence goes on
        elif "\n" not in sep and _ABBREVIATIONS.search(piece):
            continue
        _append(out, text, start, end)
        start = match.end()
    _append(out, text, start, len(text))
    return out


def _append(out: list[Sentence], text: str, start: int, end: int) -> None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return
    lead = len(raw) - len(raw.lstrip())
    out.append(Sentence(" ".join(stripped.split()), start + lead, start + lead + len(stripped)))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(word: str) -> str:
    """A very light stemmer: lower case, no possessive, no plural -s."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def content_terms(text: str) -> list[str]:
    """Stemmed words of ``text`` that carry meaning (no stopwords), in order, duplicates kept."""
    return [stem(w) for w in words(text) if w.lower().replace("’", "'") not in STOPWORDS and stem(w) not in STOPWORDS]
