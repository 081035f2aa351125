"""Sentences with character offsets: what the answerer quotes and what the sentence cache embeds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.documents.document import passage_parts

#: Characters that end a sentence, and what may close it after them (quotes, brackets).
STOPS = ".!?…。！？"
CLOSERS = "\"”’')]"
_STOP = f"[{re.escape(STOPS)}]"
_CLOSE = f"[{re.escape(CLOSERS)}]*"
#: A sentence stop with its closers: the one definition every sentence boundary in the project builds on.
SENTENCE_STOP = _STOP + _CLOSE
#: A text that ends like a sentence (not a heading or a cut-off line).
ENDS_SENTENCE = re.compile(SENTENCE_STOP + "$")

_SENTENCE_END = re.compile(rf"(?<={_STOP}){_CLOSE}\s+(?=[\"“‘(\[]?[A-Z0-9])|\n\s*\n\s*|\n")
_ENDS_LINE = re.compile(rf"(?:{_STOP}|:){_CLOSE}$")  # a line ending like this ends its sentence
_ABBREVIATIONS = re.compile(
    r"(\b(Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Ltd|Co|Corp|vs|v|etc|e\.g|i\.e|U\.S|No|Gen|Gov|Sen|Rep)|(?<![\w.])[A-Z])\.$"
)  # titles, initials ("R. A. Dave"), "US v. Google"
#: Abbreviations that stand before a number: "Oct. 10, 2023", "Op. 38", "Fig. 3", "pp. 12-14".
_BEFORE_NUMBER = re.compile(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Op|Vol|vol|Fig|fig|pp|Sec|Ch)\.$")


#: A stop inside parentheses ends no sentence when they close within this many characters after it.
_BRACKET_REACH = 80
#: A short aside in parentheses that ends its line belongs to the sentence before it: an option's default
#: ("--time_limit=<double> Time limit. (Default: 1000s)"), a unit, a cross-reference ("(See below.)").
_ASIDE_TEXT = r"\([^()\n]{1,60}\)"
_ASIDE = re.compile(_ASIDE_TEXT + r"[.!?]?[ \t]*(?:\n|$)")  # after a stop, ending its line
_TRAILING_ASIDE = re.compile(r"\s*" + _ASIDE_TEXT + "$")  # ending a sentence's text


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
        end = match.start() + (len(sep) - len(sep.lstrip(CLOSERS)))
        piece = text[start:end].strip()
        if sep == "\n":
            last_line = piece.rsplit("\n", 1)[-1]
            following = text[match.end() : match.end() + 1]
            heading = len(last_line.split()) <= 8 and not following.islower()
            if not (_ENDS_LINE.search(last_line) or heading):
                continue  # a wrapped line: the sentence goes on
        elif "\n" not in sep and (
            _ABBREVIATIONS.search(piece)
            or (_BEFORE_NUMBER.search(piece) and text[match.end() : match.end() + 1].isdigit())
            or _inside_brackets(piece, text, match.end())
            or _ASIDE.match(text, match.end())
        ):
            continue
        _append(out, text, start, end)
        start = match.end()
    _append(out, text, start, len(text))
    return out


def ends_like_sentence(text: str) -> bool:
    """``text`` ends with a sentence stop, or with one and a short aside ("Time limit. (Default: 1000s)")."""
    return bool(ENDS_SENTENCE.search(text) or ENDS_SENTENCE.search(_TRAILING_ASIDE.sub("", text)))


def _inside_brackets(piece: str, text: str, after: int) -> bool:
    """The stop falls inside a parenthesis that closes soon after ("The Zhengde Emperor (r. 1505–1521), who ...")."""
    if piece.count("(") <= piece.count(")"):
        return False
    ahead = text[after : after + _BRACKET_REACH]
    close, reopen, line = ahead.find(")"), ahead.find("("), ahead.find("\n")
    return close >= 0 and (reopen < 0 or close < reopen) and (line < 0 or close < line)


def _append(out: list[Sentence], text: str, start: int, end: int) -> None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return
    lead = len(raw) - len(raw.lstrip())
    out.append(Sentence(" ".join(stripped.split()), start + lead, start + lead + len(stripped)))


def passage_sentences(text: str) -> list[Sentence]:
    """The sentences of a passage's prose and list items, offsets in ``text``; code blocks are not sentences."""
    out: list[Sentence] = []
    for part in passage_parts(text):
        if part.kind == "code":
            continue
        shift = part.start + (2 if part.kind == "item" else 0)
        for sentence in split_sentences(part.text):
            out.append(Sentence(sentence.text, sentence.start + shift, sentence.end + shift))
    return out
