"""What a question asks for: its kind (how-to, why, a fact, yes/no) and its key terms.

The kind decides the answer's shape (bot/answering/extractive.py): a how-to question gets the
section excerpt with its code, a why question the reasons, a fact question the decisive sentence.
Key terms are what an answer must be about: names ("Pakistan"), numbers ("2.10"), and identifiers
as programmers write them (``model_dump``, ``--time_limit``, ``httpx.Timeout``, ``pydantic[email]``);
how many of them a passage covers is one of the answerability signals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.text import STOPWORDS, content_terms, stem, words

Kind = Literal["how", "why", "when", "number", "yesno", "fact"]

_HOW = re.compile(
    r"^(show me|give me an? (example|snippet)|example of)\b"
    r"|\b(how (do|can|should|would|could|to|does one)|how do i|what do i (run|type|install|pass|put|write|use|need)|"
    r"what (command|code|snippet|commands)\b|which command|what am i supposed to (install|run|do)|"
    r"is there (a|an|some|any)( [\w-]+)? (tool|way|command|api|helper|function|method|option)|"
    r"what('s| is) the ((pip|shell|cli) )?(command|syntax|incantation)|"
    r"what('s| is) the (api|function|method|decorator|command) (for|to)|i (want|need|'d like) to|need to)\b",
    re.IGNORECASE,
)
_WHY = re.compile(
    r"\b(why|how come|for what reason|what (made|caused|led)|what are the (usual |common |main )?(reasons|causes))\b",
    re.I,
)
#: The answer is a name as code spells it, or a setting's value: a setting, an option, what something is called.
_WANTS_IDENTIFIER = re.compile(
    r"\b(setting|option|flag|config(uration)?|parameter|argument|env(ironment)? var(iable)?s?|decorator|method|"
    r"function|class|attribute|api|called|name|default|renamed|equivalent)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(r"^(when|what (year|date|day|month|time)|how long|until when|by when|since (when|which))\b", re.I)
_WHEN_ANYWHERE = re.compile(r"\b(when did|when was|when is|when will|what date|which year|since which version)\b", re.I)
_NUMBER = re.compile(r"^(how (many|much)|what (percentage|share|number|amount))\b|\bhow (many|much)\b", re.I)
_YESNO = re.compile(
    r"^(is|are|does|do|did|can|could|will|would|should|has|have|was|were|isn't|doesn't|don't|won't)\b", re.I
)
#: A word written as code: dotted or snake_case names, calls, flags, extras, CamelCase, key=value.
_IDENTIFIER = re.compile(
    r"`[^`]+`|(?<![\w-])--?[A-Za-z][\w-]*(?:=[\w.<>'\"-]+)?|\b[\w.]+\[[\w,]+\]|\b\w+\(\)|\b[a-zA-Z_]\w+(?:\.\w+)+\b"
    r"|\b\w*_\w+\b|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b|\b\w+=[\w.'\"-]+"
)
_NUMBER_TOKEN = re.compile(r"\b\d[\d.,]*\b")


@dataclass(frozen=True)
class Question:
    """A question read for answering: its text, kind, and key terms (stemmed, lower case)."""

    text: str
    kind: Kind
    key_terms: tuple[str, ...]  # names, numbers, identifiers: what the answer must be about
    identifiers: tuple[str, ...]  # as written, without backticks (``model_dump``, ``--seed``)

    wants_identifier: bool = False  # the answer names a setting, an option, an API (or gives a default)

    @property
    def wants_code(self) -> bool:
        return self.kind == "how"


def analyse(text: str) -> Question:
    """The kind and key terms of a question (its wording decides; no model is involved)."""
    return Question(
        text=text,
        kind=question_kind(text),
        key_terms=key_terms(text),
        identifiers=identifiers(text),
        wants_identifier=bool(_WANTS_IDENTIFIER.search(text)),
    )


def question_kind(text: str) -> Kind:
    head = text.strip()
    if _WHY.search(head):
        return "why"
    if _HOW.search(head):
        return "how"
    if _WHEN.search(head) or _WHEN_ANYWHERE.search(head):
        return "when"
    if _NUMBER.search(head):
        return "number"
    if _YESNO.search(head):
        return "yesno"
    return "fact"


def identifiers(text: str) -> tuple[str, ...]:
    """Words of ``text`` written as code (``model_dump``, ``--time_limit``, ``httpx[http2]``)."""
    found = [m.group(0).strip("`") for m in _IDENTIFIER.finditer(text)]
    return tuple(dict.fromkeys(f for f in found if len(f) > 2))


def key_terms(text: str) -> tuple[str, ...]:
    """Stemmed names (capitalised words not at the start), numbers and identifiers' words of ``text``."""
    out: list[str] = []
    raw = words(text)
    for i, word in enumerate(raw):
        low = word.lower().replace("’", "'")
        if low in STOPWORDS:
            continue
        named = (word[0].isupper() and i > 0) or any(ch.isupper() for ch in word[1:])
        if named or _NUMBER_TOKEN.fullmatch(word):
            out.append(stem(word))
    for ident in identifiers(text):
        out.extend(content_terms(ident.replace("_", " ").replace(".", " ")) or [ident.lower()])
    return tuple(dict.fromkeys(t for t in out if t))
