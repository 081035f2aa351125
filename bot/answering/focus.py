"""What a question is about (its focus) and whether the passages cover it or only mention it.

A question names the thing it asks about: a product, an API, a setting, a flag, an error class
("using scrapy-playwright: how do I wait for a selector?", "does the ORM work with `asyncpg`?").
When the documents never explain that thing, retrieval still finds the nearest text (the general
page on waiting, a release note that names it), and answering from it misleads. So the focus is
judged by presence, which means the same in every corpus, rather than by a similarity score,
whose scale moves with the corpus:

* a focus is a word of the question written as a name: an identifier as code spells it
  (bot/answering/question.py), a hyphenated compound (``scrapy-playwright``), a capitalised word
  that does not start the sentence (``Kafka``, ``Common Crawl``), an acronym (``YAPF``). Words that
  many chunks hold (the project's own name, the page's subject everywhere) are not a focus: their
  share of chunks is at most ``COMMON_SHARE``. A lowercase word that is neither English nor a typo
  ("gunicorn") is a name too, but a weaker sign of the subject: only its rarity in the index counts
  (``FocusTerm.lowercase``). A name that no chunk of the index holds ("IBAN", "kubernetes") is
  reported apart (bot/answering/names.py, ``unseen_names``): the documents never say it, so they do
  not cover it; other words the index lacks (typos, slang) are left to the answerability model's
  ``unseen`` signal;
* a passage *covers* a focus when it names it in its title or section, in a code block, or in two
  or more of its sentences; a single sentence, a short list item (a link list), an aside ("Note:
  ..."), or any line of a changelog only *mentions* it;
* ``absent`` and ``mentioned`` are the rarity-weighted shares of the focus the passages do not
  hold at all, or only mention. They are answerability signals (bot/answering/answerability.py),
  and when the answer is withheld the mention is what the reply points to ("The documents don't
  cover scrapy-playwright; they mention it only in the release notes:", and where).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.answering.names import (
    RarityFn,
    asking_part,
    capitalised_names,
    is_error_name,
    lowercase_names,
    spelled_out,
    unseen_names,
)
from bot.answering.question import identifiers
from bot.answering.setting_names import release_of
from bot.schema import Passage
from bot.text import STOPWORDS, Sentence, content_terms, fold_accents, split_sentences, words
from ingest.documents.document import passage_parts

#: How many chunks of the index hold each term.
CountFn = Callable[[Sequence[str]], dict[str, int]]

#: A term held by more than this share of the index's chunks is common to the corpus, not a focus.
COMMON_SHARE = 0.05
#: A question naming more things than this asks about a combination, not about one subject.
MAX_FOCUS = 2
#: A list item this short that names the focus is an entry of a list (links, integrations), not an explanation.
LIST_ENTRY_WORDS = 14
_CHANGELOG_NAME = re.compile(r"(change|history|news|release|whats.?new)", re.I)
_ASIDE = re.compile(r"^(note|tip|hint|see also|warning|caution|important|info|seealso|attention)\s*:", re.I)
#: A sentence that sends the reader to another site for the substance.
_ELSEWHERE = re.compile(
    r"\b(?:follow(?:ing)?|see|read|refer to|check(?: out)?) (?:the |these |this |their |its )?(?:official )?"
    r"(?:instructions|guide|documentation|docs|steps|tutorial|article)\b",
    re.I,
)
_HYPHENATED = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+\b")


@dataclass(frozen=True)
class FocusTerm:
    """One thing the question names: as written, and the stemmed terms the index knows it by."""

    text: str
    terms: tuple[str, ...]
    chunks: int | None = None  # how many chunks of the index hold it (its rarest term), when known
    weight: float = 1.0  # how rare it is: its rarest term's IDF (1 without an index)
    #: a lowercase word read as a name ("gunicorn"): a weaker sign of a subject, so only its rarity in the
    #: index counts, not passages that only mention it ("prefork" is in 60 chunks of celery's docs)
    lowercase: bool = False

    def pattern(self) -> re.Pattern[str]:
        """Finds the name in a passage, case-insensitively, as a whole word (or its last dotted part).

        Search text with accents folded (``fold_accents``): "Severine" names the "Sévérine" of a page.
        """
        name = self.text.split(".")[-1] if "." in self.text and " " not in self.text else self.text
        return re.compile(rf"(?<![\w-]){re.escape(fold_accents(name))}(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """Where a focus is only mentioned: the passage (0-based rank), the sentence, and what kind of place it is."""

    term: str
    passage_rank: int
    sentence: str
    place: str  # "release notes", "a list", "an aside", "passing"


@dataclass(frozen=True)
class FocusReport:
    terms: tuple[FocusTerm, ...]
    absent: float  # rarity-weighted share of the focus no passage holds
    mentioned: float  # ... that passages only mention
    mentions: tuple[Mention, ...]  # for the terms only mentioned
    #: the fewest chunks of the index holding a focus term the passages do not cover (None: all covered)
    rare_uncovered: int | None = None
    #: names the question asks about that no chunk of the index holds (``unseen_names``)
    unseen: tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> FocusReport:
        return cls((), 0.0, 0.0, ())

    def barely_documented(self, chunks: int) -> bool:
        """A focus the passages do not cover is held by at most ``chunks`` chunks of the whole index."""
        return self.rare_uncovered is not None and self.rare_uncovered <= chunks


def focus_terms(
    question: str, rarity: RarityFn | None, counts: CountFn | None = None, lowercase: bool = True
) -> list[FocusTerm]:
    """The names the question asks about that the index holds, but not in most of its chunks.

    ``lowercase``: with the lowercase words that read as names ("gunicorn"; bot/answering/lexicon.py).
    """
    found: dict[str, str] = {}
    for ident in identifiers(question):
        name = ident.strip("`").strip("()").strip()
        if " " in name or len(name) > 40 or (name.startswith("-") and len(name) <= 3):
            continue  # a quoted log line or code snippet is the docs' words, not a name to look for
        found.setdefault(name.lower(), name)
    for m in _HYPHENATED.finditer(question):
        if not any(part.lower() in STOPWORDS for part in m.group(0).split("-")):  # "built-in", "up-to-date": English
            found.setdefault(m.group(0).lower(), m.group(0))
    for text, _ in capitalised_names(question):
        found.setdefault(text.lower(), text)
    plain = lowercase_names(question) if lowercase else []
    for text in plain:
        found.setdefault(text, text)
    # An error's name said before the question proper is what the asker saw, not what they ask about:
    # "dies with ConnectionError. is there a way to have celery retry it?"
    asked = question[asking_part(question) :]
    found = {key: text for key, text in found.items() if not (is_error_name(text) and text not in asked)}
    # A name inside a longer one ("Crawl" in "Common Crawl", "Retry" in "Retry-After") is the longer one.
    names = [t for t in found.values() if not any(t != u and t.lower() in u.lower() for u in found.values())]
    named = [(text, tuple(dict.fromkeys(content_terms(text.replace("_", " ").replace(".", " "))))) for text in names]
    named = [(text, terms) for text, terms in named if terms]
    every = sorted({t for _, terms in named for t in terms})  # one look-up in the index for all of them
    known = rarity(every) if rarity is not None and every else {}
    held = counts(every) if counts is not None and every else {}
    out: list[FocusTerm] = []
    for text, terms in named:
        if rarity is not None and not all(t in known for t in terms):
            continue  # never in the index: the "unseen" signal's business
        if rarity is not None and min(share_of_chunks(known[t]) for t in terms) > COMMON_SHARE:
            continue
        chunks = [held[t] for t in terms if t in held]
        weight = max((known[t] for t in terms if t in known), default=1.0)
        out.append(FocusTerm(text, terms, min(chunks) if chunks else None, weight, text in plain))
    return out


def share_of_chunks(idf: float) -> float:
    """The share of chunks holding a term, from ``log(1 + N/df)``."""
    return 1.0 / max(math.expm1(idf), 1e-9)


#: The question asks what changed, or since when: release notes then answer it.
_ASKS_CHANGE = re.compile(
    # "what changed", "why did they change it", not a change the asker makes ("which setting do I have to change?")
    r"\b((?<!to )(?<!I )(?<!i )(?<!we )(?<!you )chang\w*|"
    r"releases?|released|versions?|since|deprecat\w*|renam\w*|new in|upgrad\w*|"
    r"when (did|was|were|will)|"  # "when did 2.0 come out?", not "errors when a version is missing"
    r"migrat\w*|no longer|anymore|used to|called now|v\d+(\.\d+)*|\d+\.(\d+|x)|"
    # what the project did, not what the user did ("the sub-commands I added", "we switched to ..."):
    r"(was|were|is|are|been|get|got)\s+([\w-]+\s+){0,4}(added|removed|dropped|introduced|switched)|"
    r"(added|removed|dropped|introduced|switched)\s+(in|since|from)|"
    r"(remov|dropp|introduc)\w*\s+(support|the|its|it)\b)\b",
    re.IGNORECASE,
)


def asks_change(question: str) -> bool:
    """The question is about a change, a version or a migration."""
    return bool(_ASKS_CHANGE.search(question))


def is_release_notes(passage: Passage) -> bool:
    """A changelog, release notes or upgrade notes page, or a version's section of one."""
    stem = passage.source.rsplit("/", 1)[-1]
    # A heading that is a release ("5.5.1", "v2.0 (2023-06-30)"), not one that holds a number: a numbered
    # section ("4.1 ReduMIS") or a title naming its version ("KaMIS v2.0 – User Guide") is no release note.
    return bool(_CHANGELOG_NAME.search(stem)) or bool(release_of(passage.section))


def assess_focus(
    question: str,
    passages: Sequence[Passage],
    rarity: RarityFn | None,
    answer_sentences: Sequence[str] = (),
    counts: CountFn | None = None,
) -> FocusReport:
    """Which of the question's focus terms the passages cover, only mention, or lack.

    A question about what changed ("v1 had allow_mutation, what is it now?") is answered by the
    release notes and the migration asides, so there a mention there counts as covering it. A name
    said once in passing covers it when that sentence is one the answer would quote
    (``answer_sentences``): "Black formats notebooks with the jupyter extra" answers its question;
    after a setting the asker describes first, only if it also says a word of the question proper.
    A question that names many things (a multi-part news question) has no one focus: the shares
    are measured only when it names at most ``MAX_FOCUS``. The names no chunk of the index holds
    (``unseen_names``) are reported whatever their number. Lowercase names ("gunicorn") count only
    by their rarity: not in the number of names, nor in the shares.
    """
    terms = focus_terms(question, rarity, counts)
    unseen = tuple(n for n in unseen_names(question, rarity) if not spelled_out(n, passages))
    if sum(not f.lowercase for f in terms) > MAX_FOCUS:
        return FocusReport(tuple(terms), 0.0, 0.0, (), unseen=unseen)
    about_change = asks_change(question)
    if not terms:
        return FocusReport((), 0.0, 0.0, (), unseen=unseen)
    weights = {f.text: 0.0 if f.lowercase else f.weight for f in terms}
    total = sum(weights.values()) or 1.0
    absent = mentioned = 0.0
    mentions: list[Mention] = []
    rare: int | None = None
    found = {f.text: focus_status(f, passages, about_change) for f in terms}
    # After a setting the asker describes first, what the question proper asks besides its names ("SoftLayer
    # transport (celery[slmq]) — which credentials does it need?"): a mention that says none of it ("`celery[slmq]`
    # — for using the SoftLayer transport") names the subject without answering.
    start = asking_part(question)
    asked = set(content_terms(question[start:])) if start else set()
    for f in terms:
        status, mention = found[f.text]
        other = asked - set(f.terms)
        quoted = (
            mention is not None
            and any(mention.sentence in a or a in mention.sentence for a in answer_sentences)
            and (not other or not other.isdisjoint(content_terms(mention.sentence)))
        )
        if status == "mentioned" and mention is not None and mention.place in ("passing", "a list") and quoted:
            status = "covered"
        if status != "covered" and any(found[o][0] == "covered" for o in _alternatives(question, f, terms)):
            status = "covered"  # "a breakpoint()/pdb.set_trace()": one of the names it offers is enough
        if status != "covered" and f.chunks is not None:
            rare = f.chunks if rare is None else min(rare, f.chunks)
        if status == "absent":
            absent += weights[f.text]
        elif status == "mentioned":
            mentioned += weights[f.text]
            if mention is not None:
                mentions.append(mention)
    return FocusReport(tuple(terms), absent / total, mentioned / total, tuple(mentions), rare, unseen)


def _alternatives(question: str, f: FocusTerm, terms: Sequence[FocusTerm]) -> list[str]:
    """The other names the question offers in the same breath as ``f``: "X/Y", "X / Y", "X or Y"."""
    out = []
    for o in terms:
        if o is f:
            continue
        for a, b in ((f.text, o.text), (o.text, f.text)):
            if re.search(rf"{re.escape(a)}[`()]*\s*(/|\bor\b)\s*[`]*{re.escape(b)}", question, re.IGNORECASE):
                out.append(o.text)
                break
    return out


def focus_status(f: FocusTerm, passages: Sequence[Passage], about_change: bool) -> tuple[str, Mention | None]:
    """Whether the passages cover ``f`` ("covered"), only mention it ("mentioned", and where first) or lack it."""
    pattern = f.pattern()
    first: Mention | None = None
    compact = re.sub(r"[^a-z0-9]", "", f.text.lower().removeprefix("the "))
    for rank, p in enumerate(passages):
        if len(compact) >= 3 and compact in _host(p.url):
            return "covered", None  # the publication or site itself: "reported by The Verge" (theverge.com)
        if not pattern.search(fold_accents(f"{p.title}\n{p.section}\n{p.text}")):
            continue
        if about_change:
            return "covered", None
        notes = is_release_notes(p)
        titled = pattern.search(fold_accents(p.title)) or pattern.search(fold_accents(p.section))
        if not notes and titled and not points_elsewhere(p.text):
            return "covered", None
        hits: list[tuple[Sentence, str]] = []
        for part in passage_parts(p.text):
            if not pattern.search(fold_accents(part.text)):
                continue
            if part.kind == "code" and not notes:
                return "covered", None
            place = "release notes" if notes else "a link" if titled else ""
            if not place and part.kind == "item" and len(words(part.text)) <= LIST_ENTRY_WORDS:
                place = "a list"
            for s in split_sentences(part.text) or [Sentence(part.text, 0, len(part.text))]:
                if pattern.search(fold_accents(s.text)):
                    hits.append((s, place or ("an aside" if _ASIDE.match(part.text) else "")))
        explained = [h for h in hits if not h[1]]
        if len(explained) >= 2:
            return "covered", None
        if first is None and hits:
            sentence, place = hits[0]
            first = Mention(f.text, rank, sentence.text, place or "passing")
    return ("mentioned", first) if first is not None else ("absent", None)


def points_elsewhere(text: str) -> bool:
    """A section whose only words send the reader elsewhere: "You can deploy with CloudRay by following these
    instructions." (a link list's entry with a heading of its own). It names a subject; it does not cover it."""
    parts = passage_parts(text)
    sentences = [s for part in parts if part.kind != "code" for s in split_sentences(part.text)]
    return (
        bool(sentences)
        and len(sentences) <= 2
        and not any(part.kind == "code" for part in parts)
        and all(_ELSEWHERE.search(s.text) for s in sentences)
    )


def _host(url: str) -> str:
    """The host of a URL without dots or dashes ("www.theverge.com" -> "wwwthevergecom")."""
    host = urlsplit(url).hostname or "" if url else ""
    return re.sub(r"[^a-z0-9]", "", host.lower())
