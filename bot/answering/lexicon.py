"""Whether a lowercase word is English, a typo of a known word, or a name ("kubernetes", "protobuf").

People in a help channel write tool names in lower case: "how do I deploy vitepress to kubernetes
with a helm chart?". A capitalised name the index never holds is easy to see (bot/answering/names.py,
``unseen_names``); a lowercase one must be told apart from the other words an index may lack:
English words the documents happen not to use ("siphoning", "attuned"), their inflections and
British spellings ("honour", "realised"), compounds of common words ("frontend", "lookbehind"), and
typos ("laywer", "comapred"). What is none of these is read as a name.

English is the word list pyspellchecker ships (160,000 words from subtitles, with their counts;
MIT licence), read once per process (about 0.1 s), by the first question with a lowercase word of
four letters or more in the question proper: the focus of any such question is judged with it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

from bot.text import STOPWORDS

#: A word this frequent in the word list is common English: a typo's likely target, a compound's part.
#: About the 5,000 most frequent words; rarer ones ("python", "unicorn", "lena") are no typo's target.
COMMON_COUNT = 10_000
#: Endings an English word takes ("attuned", "ethicality", "surpasses"); the stem must be a word.
_ENDINGS = (
    "s", "es", "ed", "d", "ing", "er", "ers", "est", "ly", "ity", "ities", "ness", "ment", "ments",
    "able", "ible", "al", "ally", "ation", "ations", "ism", "ist", "ists", "ize", "ized", "izes",
)  # fmt: skip
#: Endings that inflect a word: a word is English when the list holds it inflected.
_INFLECTIONS = ("s", "es", "ed", "ing")
#: British spellings the (American) list lacks, as the American ending: "honour", "realised".
_BRITISH = (("our", "or"), ("ours", "ors"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"), ("yse", "yze"))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def _counts() -> dict[str, int]:
    """The English word list: word -> how often it occurs."""
    data = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    return counts


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(w for w, n in _counts().items() if n >= COMMON_COUNT)


def is_common(word: str) -> bool:
    """``word`` (lower case), or the word it inflects ("intervals", "installed"), is one of the commonest words."""
    common = _common()
    return word in common or any(
        word.endswith(e) and (word[: -len(e)] in common or word[: -len(e)] + "e" in common) for e in _INFLECTIONS
    )


def is_english(word: str) -> bool:
    """``word`` (lower case) is in the word list, or an inflection, derivation or British spelling of one."""
    known = _counts()
    if word in known:
        return True
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            if stem in known or stem + "e" in known or (len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in known):
                return True  # "surpass-es", "attun-ed" (attune), "begg-ing" (beg)
    if any(word + ending in known for ending in _INFLECTIONS):
        return True  # "morph": the list has only "morphed", "morphing"
    return any(word.endswith(gb) and word[: -len(gb)] + us in known for gb, us in _BRITISH)


def is_compound(word: str) -> bool:
    """``word`` is two common English words written as one ("frontend", "lookbehind", "codebase")."""
    common = _common()
    return any(word[:i] in common and word[i:] in common for i in range(3, len(word) - 2))


def one_edit_away(word: str) -> set[str]:
    """The strings one deletion, transposition, substitution or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


def looks_like_name(word: str) -> bool:
    """A lowercase word of four letters or more that is neither English nor two common words run together."""
    return len(word) >= 4 and word.isascii() and word.isalpha() and not is_english(word) and not is_compound(word)


def reads_as_name(word: str, indexed: Callable[[Iterable[str]], bool]) -> bool:
    """``word``, which no chunk of the index holds, is a name rather than English or a typo.

    ``indexed`` says whether the index holds any of the words given: a typo of the documents' own
    words ("redumis" for "ReduMIS") is no name either.
    """
    if not looks_like_name(word):
        return False
    near = one_edit_away(word)
    return not (near & _common()) and not indexed(near)


def mostly_english(words: Iterable[str], share: float = 0.5) -> bool:
    """At least ``share`` of the lowercase ``words`` are English: a question in another language is not judged."""
    plain = [w for w in words if w.isascii() and w.isalpha() and w.islower() and len(w) >= 2]
    return bool(plain) and sum(w in STOPWORDS or is_english(w) for w in plain) >= share * len(plain)
