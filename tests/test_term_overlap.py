"""How much of a question's wording a sentence holds."""

from __future__ import annotations

from bot.answering.term_overlap import overlap, term_weights


def test_names_weigh_double_and_long_prefixes_match():
    weights = term_weights("why did BlackBerry leave Pakistan?")
    assert weights == {"blackberry": 2.0, "leave": 1.0, "pakistan": 2.0}
    assert overlap(weights, "BlackBerry quit the Pakistani market.") == 0.8  # "Pakistani" holds "Pakistan"


def test_a_camel_case_word_holds_the_words_written_apart():
    weights = term_weights("how do i add a dev dependency?")
    assert overlap(weights, "`pnpm add -D sax`: save to `devDependencies`") == 1.0
    assert overlap(weights, "`pnpm add sax`: save to `dependencies`") < 1.0
