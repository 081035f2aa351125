"""Discord's limits: message splitting, links that do not unfurl, embeds within bounds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_bot.format import (
    EMBED_TOTAL,
    FIELD_NAME,
    FIELD_VALUE,
    answer_messages,
    no_unfurl,
    sources_embed,
    split_message,
)
from bot.schema import Answer, Citation, Claim, Passage


def words_of(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


def test_short_text_is_one_piece():
    assert split_message("Hello there [1].") == ["Hello there [1]."]
    assert split_message("   ") == []


def test_paragraphs_are_preferred_boundaries():
    a, b = "A" * 10 + " first paragraph.", "Second paragraph here."
    assert split_message(f"{a}\n\n{b}", limit=40) == [a, b]


def test_sentences_keep_their_citation_markers():
    text = "The tide goes out twice a day [1]. Pools stay behind [2][3]. Crabs hide there [1, 2]. End."
    pieces = split_message(text, limit=40)
    assert all(len(p) <= 40 for p in pieces)
    for p in pieces:
        assert not p.startswith("["), pieces  # a marker never starts a piece: it stays with its sentence
    assert "Pools stay behind [2][3]." in pieces
    assert words_of(pieces) == text.split()


def test_long_sentence_splits_between_words_and_a_huge_word_is_the_only_cut():
    text = "word " * 30 + "https://example.org/" + "x" * 120
    pieces = split_message(text, limit=50)
    assert all(len(p) <= 50 for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
    assert all(re.fullmatch(r"(word ?)+", p) for p in pieces[:3])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("abcdefg xyz.!?[]123\n"), min_size=0, max_size=300),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=20, max_value=400),
)
def test_split_never_exceeds_the_limit_and_loses_nothing(paragraphs, limit):
    text = "\n\n".join(paragraphs)
    pieces = split_message(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
    # words no longer than the limit are never cut
    long_free = [w for w in text.split() if len(w) <= limit]
    cut_words = [w for p in pieces for w in p.split()]
    for w in long_free:
        assert w in cut_words


def test_bare_links_are_wrapped_once_and_markdown_links_left_alone():
    text = "See https://example.org/a_b?x=1. Also <https://already.org> and [t](https://masked.org)."
    out = no_unfurl(text)
    assert "<https://example.org/a_b?x=1>." in out
    assert out.count("<https://already.org>") == 1 and "<<" not in out
    assert "[t](https://masked.org)" in out


def passage(i: int, *, url: str = "", text: str = "Passage text.", section: str = "") -> Passage:
    return Passage(
        chunk_id=f"c{i}", source=f"docs/file{i}.md", text=text, score=0.5, title=f"Title {i}", url=url, section=section
    )


def test_answer_messages_mark_notices_and_abstentions():
    result = Answer("q", "I could not find this in the documents.", True, [], [], notice="LLM unreachable")
    (msg,) = answer_messages(result)
    assert msg.startswith("-# note: LLM unreachable\n*I could not find")


def test_sources_embed_links_titles_and_quotes_escaped():
    cited = Citation(1, passage(1, url="https://example.org/a (b)"), quote="**bold** claim @everyone")
    claims = [Claim("x", (1, 2), True)]  # a model-written answer: its sources show their quotes
    embed = sources_embed(Answer("q", "x [1].", False, [cited, Citation(2, passage(2), "plain")], [], claims=claims))
    assert embed is not None and embed.title == "Sources"
    first, second = embed.fields
    assert first.name == "[1] Title 1"
    assert "(https://example.org/a%20%28b%29)" in first.value  # a parenthesis cannot close the link early
    assert "\\*\\*bold\\*\\*" in first.value and "@\u200beveryone" in first.value
    assert second.value.startswith("`docs/file2.md`")


def test_an_extractive_answers_sources_do_not_repeat_its_quotes():
    cited = Citation(1, passage(1, section="Install › Extras"), quote="Run pip install x.")
    embed = sources_embed(Answer("q", "Run pip install x. [1]", False, [cited], []))
    assert embed is not None
    (field,) = embed.fields
    assert field.value == "`docs/file1.md § Install › Extras`"  # where it is, not the quote again


def test_sources_embed_stays_within_discord_limits():
    huge = "word " * 2000
    citations = [Citation(i, passage(i, url=f"https://e.org/{i}"), quote=huge) for i in range(1, 31)]
    embed = sources_embed(Answer("q", "x", False, citations, [], claims=[Claim("x", (1,), True)]))
    assert embed is not None
    assert len(embed) <= EMBED_TOTAL
    assert len(embed.fields) <= 25
    assert all(len(f.name) <= FIELD_NAME and len(f.value) <= FIELD_VALUE for f in embed.fields)
    assert all(f.value.startswith("[docs/file") for f in embed.fields)  # the link line survives clipping


def test_a_not_found_reply_stays_short_with_no_embed():
    unrelated = [passage(i) for i in range(1, 5)]
    assert sources_embed(Answer("q", "I could not find this in the documents.", True, [], unrelated)) is None
    closest = Answer(
        "q", "The documents don't say this directly; closest:\n- a", True, [Citation(1, unrelated[0], "a")], []
    )
    assert sources_embed(closest) is None
    (msg,) = answer_messages(closest)
    assert msg == "*The documents don't say this directly; closest:*\n- a"
