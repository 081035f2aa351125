"""The names a question asks about, and those no chunk of the index holds.

A name is a capitalised word that grammar does not explain ("Kafka", "Common Crawl"), an acronym
("YAPF"), or a lowercase word that is neither English nor a typo ("gunicorn", "kubernetes";
bot/answering/lexicon.py). bot/answering/focus.py judges whether the passages cover the names the
index holds; a name it never holds is reported apart (``unseen_names``): the documents never say
it, so they do not cover it, however close the nearest passage reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from bot.answering import lexicon
from bot.schema import Passage
from bot.text import content_terms, words

#: Rarity (IDF) of terms in the index, as bot/answering/evidence.py's RarityFn.
RarityFn = Callable[[Sequence[str]], dict[str, float]]

#: Capitalised words, acronyms, and words with an inner capital after a lowercase start ("reStructuredText",
#: "iPhone", "gRPC"): capitalised in a way grammar does not explain.
_CAPITALISED = re.compile(
    r"\b(?:[A-Z][A-Za-z0-9]*[a-z0-9]*|[A-Z]{2,}[0-9]*|[a-z]+[A-Z][A-Za-z0-9]*)(?:\s+[A-Z][A-Za-z0-9]+)*\b"
)
#: Next to a name, these make it part of code or of a compound ("Article.DoesNotExist", "Wi-Fi", "`Kafka`", "f(").
_JOINS_BEFORE = frozenset("-._`/@")
_JOINS_AFTER = frozenset("-._`(/@")
#: An error's name is what the asker saw (the symptom), not what the documents must be about.
_ERROR_NAME = re.compile(r"(Error|Exception|Warning)$")
QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
#: A clause that starts as a question: after a sentence's end or a comma, "how ...", "is there ...".
_ASKING_CLAUSE = re.compile(
    r"(?:^|[.?!;:]\s+|,\s+|\s[—–-]\s+)((?:how|what|what's|whats|which|who|whose|when|where|why|can|could|should|would|"
    r"will|do|does|did|is|are|was|were|has|have|any|anyone|anybody)\b)",
    re.IGNORECASE,
)
#: A lowercase word standing alone: not part of code, a path, a hyphenated compound or a contraction.
_LOWERCASE_WORD = re.compile(r"(?<![-._`/@\w'’])[a-z]{4,}(?![-_`(/@\w'’]|\.\w)")
#: Capitalised words joined by hyphens ("Retry-After", "Content-Type"): a header's or a product's name.
_HYPHENATED_NAME = re.compile(r"(?<![-._`/@\w])[A-Z][a-z]{2,}(?:-[A-Z][a-z]{2,})+(?![-_`(/@\w]|\.\w)")
_SENTENCE_START = re.compile(r"(^|[.!?:;\"“(]\s*|\n\s*)$")


def capitalised_names(question: str) -> list[tuple[str, re.Match[str]]]:
    """The capitalised names of ``question`` ("Kafka", "Common Crawl", "YAPF"), each with where it was found."""
    out = []
    for m in _CAPITALISED.finditer(question):
        lead = m.group(0).split()
        while len(lead) > 1 and lead[0].lower() in _COMMON_CAPS:
            lead = lead[1:]  # "Which Nintendo", "What James Bond": the question word is not part of the name
        text = " ".join(lead)
        if _SENTENCE_START.search(question[: m.start()]) and " " not in text and not _looks_named(text):
            continue  # "Using the ..." starts the sentence: capitalised for grammar, not as a name
        if text.split()[0] in ("I", "I'm", "I've", "I'd") or all(w.lower() in _COMMON_CAPS for w in text.split()):
            continue
        if len(text) < 2 or text.lower() in _CALENDAR:
            continue  # "Q", "December": a letter or a date names no subject the documents could lack
        if text[0].islower() and _two_words(text):
            continue  # "camelCase", "snakeCase": two English words in a programmer's spelling, no product
        out.append((text, m))
    return out


def lowercase_names(question: str) -> list[str]:
    """Lowercase words of the question proper that read as names ("gunicorn"), in an English question."""
    names = [w for w in dict.fromkeys(m.group(0) for m in _lowercase_words(question)) if lexicon.looks_like_name(w)]
    return names if names and lexicon.mostly_english(w for w in words(question) if w not in names) else []


def _lowercase_words(question: str) -> list[re.Match[str]]:
    """The lowercase words of the question proper (``asking_part``) outside quotes."""
    quoted = [(m.start(), m.end()) for m in QUOTED.finditer(question)]
    found = _LOWERCASE_WORD.finditer(question, asking_part(question))
    return [m for m in found if not any(a <= m.start() < b for a, b in quoted)]


def unseen_names(question: str, rarity: RarityFn | None) -> tuple[str, ...]:
    """The names the question asks about that no chunk of the index holds.

    "does pydantic ship an IBAN type?", "expose worker metrics to Prometheus", "deploy vitepress to
    kubernetes": the documents never say the name, so they do not cover it, however close the
    nearest passage reads. A name is capitalised, an acronym, or a lowercase word that is neither
    English nor a typo (bot/answering/lexicon.py). Not a name here: part of code or of a hyphenated
    word ("Article.DoesNotExist", "Wi-Fi"), an error's name (what the asker saw), or words inside
    quotes (a pasted message).
    """
    if rarity is None:
        return ()
    quoted = [(m.start(), m.end()) for m in QUOTED.finditer(question)]
    names: dict[str, tuple[int, tuple[str, ...]]] = {}
    cut = -1  # where a name cut at a contraction goes on ("Diamonds Aren't Forever"): not a whole name either
    for text, m in capitalised_names(question):
        before, after = question[m.start() - 1 : m.start()], question[m.end() : m.end() + 2]
        if after[:1] in ("'", "’") and after[1:] != "s":
            cut = question.find(" ", m.end()) + 1
            continue
        if m.start() == cut or (before and before in _JOINS_BEFORE) or (after[:1] and after[:1] in _JOINS_AFTER):
            continue
        if is_error_name(text):
            continue
        if any(a <= m.start() < b for a, b in quoted):
            continue
        terms = tuple(content_terms(text))
        if terms:
            names.setdefault(text, (m.start(), terms))
    for m in _hyphenated_names(question):
        if not any(a <= m.start() < b for a, b in quoted) and (terms := tuple(content_terms(m.group(0)))):
            names.setdefault(m.group(0), (m.start(), terms))
    lowercase: dict[str, tuple[int, tuple[str, ...]]] = {}
    for m in _lowercase_words(question):
        if terms := tuple(content_terms(m.group(0))):
            lowercase.setdefault(m.group(0), (m.start(), terms))
    every = {t for _, terms in [*names.values(), *lowercase.values()] for t in terms}
    known = rarity(sorted(every)) if every else {}
    unseen = {text: at for text, (at, terms) in names.items() if any(t not in known for t in terms)}
    lowercase = {text: v for text, v in lowercase.items() if v[1][0] not in known}
    if lowercase and lexicon.mostly_english(w for w in words(question) if w not in lowercase):

        def indexed(candidates: Iterable[str]) -> bool:
            return bool(rarity(sorted({t for c in candidates for t in content_terms(c)})))

        unseen.update((text, at) for text, (at, _) in lowercase.items() if lexicon.reads_as_name(text, indexed))
    return tuple(sorted(unseen, key=unseen.__getitem__))


def _hyphenated_names(question: str) -> list[re.Match[str]]:
    """Capitalised words joined by hyphens in the question proper ("Retry-After", "Content-Type"): the name of
    a header, a protocol's field or a product, not English; a span of days ("Friday-Sunday") names nothing."""
    return [
        m
        for m in _HYPHENATED_NAME.finditer(question, asking_part(question))
        if not all(w.lower() in _CALENDAR for w in m.group(0).split("-"))
    ]


def asking_part(question: str) -> int:
    """Where the question proper starts, after the setting the asker describes first.

    "redumis segfaults on my graph, what are the usual reasons?", "black wrecks my numpy matrix.
    is there an ignore comment?": the words before the first clause that starts as a question are
    what the asker has, not what they ask about. With no such clause, all of it is the question.
    """
    first = _ASKING_CLAUSE.search(question)
    return first.start(1) if first else 0


def is_error_name(name: str) -> bool:
    """``name`` is an error's, warning's or exception's ("ConnectionError"): what the asker saw, the symptom."""
    return bool(_ERROR_NAME.search(name))


def spelled_out(name: str, passages: Sequence[Passage]) -> bool:
    """``name`` is an acronym that a passage writes out in full ("NYC": "New York City")."""
    if not (name.isupper() and name.isalpha() and 2 <= len(name) <= 6):
        return False
    words_ = r"\s+(?:(?:of|the|and|for|de|du|la)\s+)?".join(rf"{ch}[\w’'-]*" for ch in name)
    spelled = re.compile(rf"\b{words_}\b")
    return any(spelled.search(f"{p.title}\n{p.section}\n{p.text}") for p in passages)


def _two_words(word: str) -> bool:
    """``word`` is two English words of three letters or more joined in camelCase ("camelCase")."""
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", word)
    return (
        len(parts) == 2 and "".join(parts) == word and all(len(p) >= 3 and lexicon.is_english(p.lower()) for p in parts)
    )


def _looks_named(word: str) -> bool:
    """Capitalised in a way grammar does not explain: an acronym or an inner capital (``YAPF``, ``FastAPI``)."""
    return (word.isupper() and len(word) >= 2) or any(ch.isupper() for ch in word[1:])


#: Capitalised words that name nothing in particular.
_COMMON_CAPS = frozenset(
    "the a an is are do does how what why when where which who can could should would will my our your it "
    "this that these those there here if in on for to and or but not no yes please thanks hi hello ok "
    "python windows linux mac macos".split()
)


_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow".split()
)
