"""The stream a user watches: whole verified sentences only, whatever the pieces' boundaries."""

from __future__ import annotations

import pytest

from bot.answering.sentence_stream import SentenceStream
from bot.answering.verify import PassageSupport, finished_part
from bot.schema import Passage

PASSAGES = [
    Passage(
        chunk_id="a",
        source="install.md",
        score=1.0,
        text="Install it with pip. Run pip install citebot[llm] to add the LLM extra.",
    ),
    Passage(
        chunk_id="b",
        score=0.9,
        source="settings.md",
        text="The timeout bounds the whole answer. Set CITEBOT_LLM_TIMEOUT=20 in the .env file.\n\n"
        "```sh\nexport CITEBOT_LLM_TIMEOUT=20\n```",
    ),
]

ANSWER = (
    "Set CITEBOT_LLM_TIMEOUT=20 in the .env file [2]. The timeout was added in version 9 by the core team [1]. "
    "Run pip install citebot[llm] to add the LLM extra [1].\n\n"
    "```sh\nexport CITEBOT_LLM_TIMEOUT=20\n```\n\n"
    "```sh\ncitebot tune --fast\n```\n"
)


def run(pieces: list[str]) -> tuple[list[str], SentenceStream]:
    shown: list[str] = []
    stream = SentenceStream(PASSAGES, PassageSupport(PASSAGES, None), shown.append)
    for piece in pieces:
        stream.feed(piece)
    stream.close()
    return shown, stream


@pytest.mark.parametrize("size", [1, 3, 7, len(ANSWER)])
def test_only_supported_whole_sentences_and_quoted_code_are_passed_on_whatever_the_piece_size(size):
    shown, stream = run([ANSWER[i : i + size] for i in range(0, len(ANSWER), size)])
    assert [s.strip() for s in shown] == [
        "Set CITEBOT_LLM_TIMEOUT=20 in the .env file [1].",
        "Run pip install citebot[llm] to add the LLM extra [2].",  # renumbered in order of use
        "```sh\nexport CITEBOT_LLM_TIMEOUT=20\n```",
    ]
    assert (stream.shown, stream.held) == (3, 2)  # the invented history and the invented command


def test_a_sentence_is_held_until_its_marker_can_no_longer_grow():
    shown, stream = [], None
    stream = SentenceStream(PASSAGES, PassageSupport(PASSAGES, None), shown.append)
    stream.feed("Set CITEBOT_LLM_TIMEOUT=20 in the .env file")
    stream.feed(" [")
    assert shown == []
    stream.feed("2].")
    assert shown == []  # "[2]." may still be followed by "[1]"
    stream.feed(" The")
    assert [s.strip() for s in shown] == ["Set CITEBOT_LLM_TIMEOUT=20 in the .env file [1]."]


def test_an_answer_cut_off_mid_sentence_or_mid_code_shows_nothing_of_the_unfinished_part():
    shown, stream = run(["Run pip install citebot[llm] to add the LLM extra [1]. Set CITEBOT_LLM_TIME"])
    assert [s.strip() for s in shown] == ["Run pip install citebot[llm] to add the LLM extra [1]."]
    shown, stream = run(["```sh\nexport CITEBOT_LLM_TIMEOUT=20\n"])
    assert shown == [] and stream.held == 1


def test_markers_that_point_at_no_passage_never_reach_the_user():
    shown, _ = run(
        ["Set CITEBOT_LLM_TIMEOUT=20 in the .env file [2][7]. The timeout is measured in minutes by default [9]."]
    )
    assert [s.strip() for s in shown] == ["Set CITEBOT_LLM_TIMEOUT=20 in the .env file [1]."]


def test_a_short_sentence_whose_markers_name_no_passage_is_debris_in_the_stream_and_the_answer():
    from bot.answering.verify import verify_answer

    answer = "Set CITEBOT_LLM_TIMEOUT=20 in the .env file [2]. See also [7]."
    shown, stream = run([answer])
    assert [s.strip() for s in shown] == ["Set CITEBOT_LLM_TIMEOUT=20 in the .env file [1]."] and stream.held == 1
    assert verify_answer(answer, PASSAGES, None).text == "Set CITEBOT_LLM_TIMEOUT=20 in the .env file [1]."


@pytest.mark.parametrize(
    ("cut", "whole"),
    [
        ("It closed [1]. Then it reop", "It closed [1]."),
        ("It closed. [1] Then", "It closed [1]."),
        ("Set it in the .env", ""),  # a stop inside a name is no sentence end
        ('He said "no." And', 'He said "no."'),
        ("Run it:\n\n```sh\npip install x\n```\n\nThen", "Run it:\n\n```sh\npip install x\n```"),
        ("It closed [1].\n\n```sh\npip inst", "It closed [1]."),
        ("half a sentence", ""),
    ],
)
def test_a_reply_cut_off_keeps_only_its_whole_sentences_and_closed_code_blocks(cut, whole):
    assert finished_part(cut) == whole


def test_a_stream_closed_unfinished_drops_its_last_fragment():
    shown: list[str] = []
    stream = SentenceStream(PASSAGES, PassageSupport(PASSAGES, None), shown.append)
    stream.feed("Run pip install citebot[llm] to add the LLM extra [1]. Install it")
    stream.close(finished=False)
    assert [s.strip() for s in shown] == ["Run pip install citebot[llm] to add the LLM extra [1]."]
    assert stream.held == 0  # a fragment is no claim
