"""Small text helpers shared by the answerers: sentences with offsets, content terms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ingest.documents.sentences import Sentence, split_sentences

__all__ = [
    "CITATION_MARKER",
    "CITATION_RUN",
    "STOPWORDS",
    "Sentence",
    "content_terms",
    "fold_accents",
    "split_sentences",
    "stem",
    "strip_citations",
    "words",
]

_MARKER = r"\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\]"
#: One citation marker, ``[2]`` or ``[1, 3]``; group 1 holds the numbers.
CITATION_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
#: A run of markers with the spaces before them (`` [1][2]``).
CITATION_RUN = re.compile(rf"(?:\s*{_MARKER})+")

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
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


def strip_citations(text: str) -> str:
    """``text`` without its citation markers (they name passages of another answer)."""
    return CITATION_RUN.sub("", text)


#: The accents NFKD splits off Latin letters ("é" -> "e" + U+0301).
_ACCENTS = re.compile("[\u0300-\u036f]")


def fold_accents(text: str) -> str:
    """``text`` with Latin accents dropped ("Beyoncé" -> "Beyonce"); other text as it is."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKD", text)
    return _ACCENTS.sub("", folded) if folded != text else text


def words(text: str) -> list[str]:
    """The words of ``text``, accents folded: "Beyoncé" is the word a question typed as "Beyonce" finds."""
    return _WORD.findall(fold_accents(text))


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
    return [t for t in map(_content_term, words(text)) if t]


@lru_cache(maxsize=1 << 16)
def _content_term(word: str) -> str:
    """``word`` stemmed, or "" for a stopword. Remembered: a warm answer reads a quarter million words."""
    if word.lower().replace("’", "'") in STOPWORDS:
        return ""
    term = stem(word)
    return "" if term in STOPWORDS else term


#: A word with an inner capital after a lowercase letter: "devDependencies", "AsyncClient", "srcDir".
_CAMEL_WORD = re.compile(r"\b[A-Za-z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b")
_CAMEL_PART = re.compile(r"[A-Z]?[a-z0-9]+")
_INNER_CAPITAL = re.compile(r"[a-z0-9][A-Z]")


@lru_cache(maxsize=1 << 14)
def camel_parts(text: str) -> tuple[str, ...]:
    """The terms of the parts of ``text``'s camelCase and PascalCase words ("devDependencies": dev, dependency).

    Also what a chunk is found by (bot/retrieval/keyword.py): "dev dependency" finds ``devDependencies``.
    Read for every sentence an answer weighs, and the same sentences come back question after question:
    remembered, and most have no such word, which one quick look tells.
    """
    if not _INNER_CAPITAL.search(text):
        return ()
    return tuple(
        content_terms(" ".join(p for m in _CAMEL_WORD.finditer(text) for p in _CAMEL_PART.findall(m.group(0))))
    )
