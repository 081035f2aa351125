"""What the asker says does not serve them, so that an answer does not offer it back.

Help-channel questions often name the approach they have already tried or cannot use: "our image
has no curl. how do i run the install script?", "delay() runs it right away", "the timedelta
schedule only does intervals", "I don't want to wrap it in a BaseModel". The sentence that names
that thing again ("You can call a task using the `delay` method") restates the question; the
answer is the sentence that names something else (`apply_async` with `countdown`, `wget`).

Only specific words count as rejected: a name as code writes it, or a word that is not one of the
common English words ("curl", "timedelta"; not "schedule" or "setting"), so a rejected approach
never penalises the question's ordinary words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.lexicon import is_common
from bot.answering.names import QUOTED
from bot.answering.question import identifiers
from bot.text import STOPWORDS

#: A word as code splits words ("set_trace" of ``pdb.set_trace()``).
_CODE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Something a sentence writes as code: a backquoted span, a snake_case name, a call.
CODE_SPAN = re.compile(r"`[^`]+`|\b\w+_\w+\b|\b\w+\(\)")
_CLAUSES = re.compile(r"[.;!?]+(?:\s|$)|,\s|\s[-–—]\s|\bbut\b", re.I)
_ARTICLE = r"(?:(?:an?|the|any)\s+)?"
#: "has no curl", "without a broker", "don't have docker", "no sudo access".
_LACKS = re.compile(
    rf"\b(?:has|have|had|with|there'?s|there is|got)\s+no\s+{_ARTICLE}([\w.+-]+)"
    rf"|\bwithout\s+{_ARTICLE}([\w.+-]+)"
    rf"|\b(?:don'?t|do not|doesn'?t|does not|can'?t|cannot)\s+(?:have|install|use|access|run)\s+{_ARTICLE}([\w.+-]+)"
    r"|\bno\s+([\w.+-]+)\s+(?:installed|available|access)\b",
    re.I,
)
#: What follows is what the asker will not use: "don't want to wrap it in a BaseModel", "json instead of yaml".
_NOT_WANTED = re.compile(
    r"\b(?:don'?t|do not|dont) want to\b|\binstead of\b|\brather than\b|\bother than\b|\bapart from\b", re.I
)
#: A clause about the asker's own setup ("our image has no curl"), not about the world ("a board without
#: investor directors").
_ASKER = re.compile(r"\b(?:i|i'm|i've|we|we're|my|our|me|us|you|your)\b|\b(?:don'?t|do not|dont) want to\b", re.I)
#: What precedes is an approach that does not do what the asker wants.
_FAILS = re.compile(
    r"\b(?:runs? (?:it |them )?(?:right away|immediately|at once|straight away)|blows past|"
    r"only (?:does|do|supports?|works?|handles?|accepts?|takes?|gives?|returns?|lets?)|(?:just )?hangs?\b|"
    r"does nothing|is ignored|gets ignored|"
    r"(?:doesn'?t|does not|don'?t|won'?t|isn'?t|is not|didn'?t) (?:work|exist|wait|help|do (?:it|that|anything))|"
    r"no longer (?:works?|exists?)|is deprecated|was removed|went away)\b",
    re.I,
)
#: A sentence about being without something ("If you don't have curl installed", "without a broker").
_WITHOUT = re.compile(
    r"\b(?:don'?t|do not|doesn'?t|does not) (?:have|ship)|\bwithout\b|\bno \w+ (?:installed|available)\b"
    r"|\bnot (?:installed|available)\b|\bunavailable\b|\bmissing\b",
    re.I,
)
#: A sentence that sets the rejected thing aside ("If you don't have curl installed, ...", "switched from a
#: `scrapy.Item` to a dataclass") answers, it does not echo.
_SETS_ASIDE = re.compile(
    r"\b(?:don'?t|do not|doesn'?t|does not|can'?t|cannot|won'?t|not|no longer|never|instead|rather than|without|"
    r"alternatives?|avoid|switch(?:ed|es)?|replac(?:e|ed|es)|renamed|migrat\w*)\b|→",
    re.I,
)


@dataclass(frozen=True)
class Rejection:
    """The code words of what the question rejects, and of all it names as code."""

    lacking: frozenset[str] = frozenset()  # what the asker does not have: code using it cannot run for them
    failing: frozenset[str] = frozenset()  # an approach tried, or not wanted
    asked: frozenset[str] = frozenset()  # every code word of the question's identifiers and rejected words

    def __bool__(self) -> bool:
        return bool(self.lacking or self.failing)

    def echoes(self, sentence: str) -> bool:
        """``sentence`` names what was rejected, neither setting it aside nor naming anything new as code."""
        if not self or not (code_words(sentence) & (self.lacking | self.failing)) or _SETS_ASIDE.search(sentence):
            return False
        return not self._names_new(sentence)

    def stance(self, sentence: str, introduced_code: str = "") -> int:
        """-1: ``sentence`` offers back what was rejected (``offers``); 1: it is about being without what the
        asker lacks, their own case ("If you don't have curl installed, use wget:"); 0: neither."""
        if not self:
            return 0
        if self.offers(sentence, introduced_code):
            return -1
        return 1 if code_words(sentence) & self.lacking and _WITHOUT.search(sentence) else 0

    def offers(self, sentence: str, introduced_code: str = "") -> bool:
        """``sentence`` echoes what was rejected, or introduces (ends with ":") code that offers it back."""
        if self.echoes(sentence):
            return True
        return (
            bool(introduced_code)
            and sentence.rstrip().endswith(":")
            and self.offered_in_code(introduced_code, sentence)
        )

    def offered_in_code(self, code: str, lead: str | None) -> bool:
        """A code block that uses what the asker lacks, or a failed approach with a lead-in that offers nothing new."""
        held = code_words(code)
        if held & self.lacking:
            return True
        return bool(held & self.failing) and (lead is None or not self._names_new(lead))

    def _names_new(self, sentence: str) -> bool:
        """``sentence`` writes as code something the question does not name."""
        return any(code_words(span.group(0)) - self.asked for span in CODE_SPAN.finditer(sentence))


def code_words(text: str) -> set[str]:
    """The lower-cased words of ``text`` as code splits them (``pdb.set_trace()``: pdb, set_trace)."""
    return {w.lower() for w in _CODE_WORD.findall(text)}


@lru_cache(maxsize=256)
def rejected_in(question: str) -> Rejection:
    """What ``question`` says the asker lacks, tried without success, or will not use (empty: nothing)."""
    question = QUOTED.sub(" ", question)  # a pasted message ("'list' object has no attribute 'strip'") rejects nothing
    named = {w for ident in identifiers(question) for w in code_words(ident)}
    lacking: set[str] = set()
    failing: set[str] = set()
    for clause in _CLAUSES.split(question):
        if _ASKER.search(clause):
            for match in _LACKS.finditer(clause):
                lacking |= _specific(next(g for g in match.groups() if g), named)
            wanted_not = _NOT_WANTED.search(clause)
            if wanted_not:
                failing |= _specific(clause[wanted_not.end() :], named)
        fails = _FAILS.search(clause)
        if fails:
            failing |= _specific(clause[: fails.start()], named)
    if not (lacking or failing):
        return Rejection()
    return Rejection(frozenset(lacking), frozenset(failing - lacking), frozenset(named | lacking | failing))


def _specific(text: str, named: set[str]) -> set[str]:
    """The words of ``text`` specific enough to reject: the question's code words, or uncommon words."""
    out = set()
    for word in code_words(text):
        if word in named or (len(word) >= 3 and word.isalpha() and word not in STOPWORDS and not is_common(word)):
            out.add(word)
    return out
