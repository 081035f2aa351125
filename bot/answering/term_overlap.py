"""How much of a question's wording a text holds: its terms weighted (names and numbers double), matched loosely.

The lexical half of a sentence's evidence score, and what the citation checker reads.
"""

from __future__ import annotations

import re

from bot.text import camel_parts, content_terms, words

#: What a help-channel question says around its question ("what's going on?", "any ideas?", "thanks!"): it names
#: nothing the answer must hold, and "going" or "ideas" would favour any sentence that happens to use them.
_FILLER = re.compile(
    r"\b(?:what(?:'|’)?s going on|what is going on|what gives|what am i (?:doing wrong|missing)|am i missing something"
    r"|is it just me|any (?:ideas?|pointers|hints)|thanks(?: in advance)?|thank you|tia|pls|please|lol"
    r"|(?:can|could) (?:someone|anyone|somebody) (?:help(?: me)?|explain))\b",
    re.IGNORECASE,
)


def term_weights(question: str) -> dict[str, float]:
    """Content terms of the question; names and numbers weigh more than common words."""
    weights: dict[str, float] = {}
    raw = words(_FILLER.sub(" ", question))
    for i, w in enumerate(raw):
        terms = content_terms(w)
        if not terms:
            continue
        term = terms[0]
        weight = 1.0
        if (w[0].isupper() and i > 0) or any(ch.isdigit() for ch in w):
            weight = 2.0
        weights[term] = max(weights.get(term, 0.0), weight)
    return weights


def overlap(weights: dict[str, float], sentence: str) -> float:
    """Weighted share of the question's terms present in the sentence (0..1).

    A term also matches a word it is a long prefix of, or that is a long prefix of it
    ("Pakistan" ~ "Pakistani", "leave" ~ "leaving" after stemming to "leav").
    """
    if not weights:
        return 0.0
    present = {*content_terms(sentence), *camel_parts(sentence)}
    hit = sum(w for t, w in weights.items() if t in present or any(prefix_match(t, p) for p in present))
    return hit / sum(weights.values())


def prefix_match(a: str, b: str) -> bool:
    """One term is a long prefix of the other (at least 4 letters and 70% of the longer)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long.startswith(short) and len(short) >= 0.7 * len(long)
