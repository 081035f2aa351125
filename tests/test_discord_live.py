"""A model's answer shown in Discord as it is verified: edits at most once a second, never an unverified claim."""

from __future__ import annotations

import asyncio
import time
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.discord_bot.live import LOOKING, LiveReply
from bot.schema import Answer, Citation, Passage
from tests.discord_support import fake_services, make_docs
from tests.test_discord_commands import ask_cog, interaction

SENTENCES = [f"Verified sentence number {i} about tide pools [1]. " for i in range(8)]


def fake_message(fail_after: int | None = None) -> MagicMock:
    """A sent message whose edits are recorded (time, content, kwargs); Discord rejects edit ``fail_after``+1."""
    msg = MagicMock(spec=discord.Message)
    msg.edits = []

    async def edit(**kwargs):
        if fail_after is not None and len(msg.edits) >= fail_after:
            raise discord.HTTPException(MagicMock(status=400, reason="Bad Request"), "rejected")
        msg.edits.append((time.monotonic(), kwargs.get("content"), kwargs))
        return msg

    msg.edit = AsyncMock(side_effect=edit)
    return msg


async def feed_slowly(live: LiveReply, pieces: list[str], gap: float) -> None:
    """The answering thread: one verified sentence every ``gap`` seconds."""

    def produce() -> None:
        for piece in pieces:
            time.sleep(gap)
            live.feed(piece)

    await asyncio.to_thread(produce)


async def test_sentences_are_coalesced_into_at_most_one_edit_per_interval_and_the_final_edit_carries_the_sources():
    msg = fake_message()
    fallback = AsyncMock()
    live = LiveReply(AsyncMock(return_value=msg), fallback, interval=0.5)
    await live.start()
    await feed_slowly(live, SENTENCES, gap=0.1)  # 8 sentences in 0.8 s
    await asyncio.sleep(0.6)  # the last edit is due
    times = [t for t, _c, _k in msg.edits]
    assert 2 <= len(times) <= 3 and all(b - a >= 0.49 for a, b in zip(times, times[1:]))
    full = "".join(SENTENCES).strip()
    assert all(full.startswith(c) and c.endswith("[1].") for _t, c, _k in msg.edits)  # whole verified sentences only
    assert msg.edits[-1][1] == full
    embed, view = discord.Embed(title="Sources"), MagicMock(spec=discord.ui.View)
    assert await live.first_part("The final answer [1].", embed, view) is msg
    _t, content, kwargs = msg.edits[-1]
    assert content == "The final answer [1]." and kwargs["embed"] is embed and kwargs["view"] is view
    fallback.assert_not_called()


async def test_an_edit_discord_rejects_stops_the_live_edits_and_the_answer_comes_as_a_new_message():
    msg = fake_message(fail_after=1)
    new_message = MagicMock(spec=discord.Message)
    fallback = AsyncMock(return_value=new_message)
    live = LiveReply(AsyncMock(return_value=msg), fallback, interval=0.2)
    await live.start()
    await feed_slowly(live, SENTENCES[:4], gap=0.25)
    await asyncio.sleep(0.3)
    assert len(msg.edits) == 1  # the second edit was refused: no more tries
    assert await live.first_part("The final answer [1].", None, None) is new_message
    fallback.assert_awaited_once_with("The final answer [1].", None, None)


async def test_a_growing_reply_never_passes_one_message_and_breaks_only_between_sentences():
    msg = fake_message()
    live = LiveReply(AsyncMock(return_value=msg), AsyncMock(), interval=0.05, limit=200)
    await live.start()
    long = [f"Sentence {i} is long enough to matter for the limit of one message [1]. " for i in range(10)]
    await feed_slowly(live, long, gap=0.01)
    await asyncio.sleep(0.2)
    shown = msg.edits[-1][1]
    assert len(shown) <= 200 and shown.endswith("[1].") and "".join(long).startswith(shown)


class StreamingAnswers:
    """Services stand-in with a model: its answer arrives one verified sentence at a time."""

    questions = None
    llm = object()  # a model is configured

    def __init__(self, settings, gap: float = 0.15) -> None:
        self.settings = settings
        self.gap = gap
        passage = Passage(chunk_id="c1", source="pools.md", text="x", score=1.0, title="Tide pools")
        self.answer = Answer("q", "".join(SENTENCES).strip(), False, [Citation(1, passage, "the quote")], [passage])

    def check_question(self, question):
        return question

    def ask(self, question, history=(), k=None, *, on_sentence=None):
        for sentence in SENTENCES:
            time.sleep(self.gap)
            if on_sentence is not None:
                on_sentence(sentence)
        return self.answer


@pytest.fixture
def services(tmp_path, docs_dir, fake_embedder):
    return fake_services(tmp_path, make_docs(docs_dir), fake_embedder)


@pytest.fixture
def streaming(services):
    return StreamingAnswers(services.settings)


async def test_a_slash_command_shows_looking_then_grows_then_ends_with_sources_and_buttons(streaming):
    cog = ask_cog(streaming)
    it = interaction()
    msg = fake_message()
    opened: list[str] = []

    async def edit_original_response(**kwargs):
        opened.append(kwargs["content"])
        return msg

    it.edit_original_response = AsyncMock(side_effect=edit_original_response)
    await cog.ask.callback(cog, it, "what lives in a tide pool?")
    assert opened == [LOOKING]
    growing = [c for _t, c, k in msg.edits if "embed" not in k]
    times = [t for t, _c, _k in msg.edits]
    assert len(growing) >= 2 and all(b - a >= 0.99 for a, b in zip(times, times[1:]))  # at most one edit a second
    final = msg.edits[-1]
    assert final[1] == streaming.answer.text and isinstance(final[2]["embed"], discord.Embed) and "view" in final[2]
    assert [c[0] for c in it.calls] == ["defer"]  # no follow-up message: the reply itself became the answer


async def test_without_a_model_the_answer_is_one_message_with_no_edit(services):
    cog = ask_cog(services)
    it = interaction()
    it.edit_original_response = AsyncMock()
    await cog.ask.callback(cog, it, "What is a tide pool?")
    it.edit_original_response.assert_not_called()
    assert [c[0] for c in it.calls if c[0] != "create_thread"] == ["defer", "followup"]


class FailingMidStream(StreamingAnswers):
    """Two sentences verified, then the model's server is gone: the answer falls back to the extractive one."""

    def ask(self, question, history=(), k=None, *, on_sentence=None):
        for sentence in SENTENCES[:2]:
            time.sleep(self.gap)
            if on_sentence is not None:
                on_sentence(sentence)
        passage = self.answer.passages[0]
        return Answer(
            "q",
            "Tide pools hold anemones and crabs [1].",
            False,
            [Citation(1, passage, "the quote")],
            [passage],
            notice="the model's server closed the connection mid-answer; this answer is extractive",
        )


async def test_a_model_that_fails_mid_stream_leaves_the_extractive_answer_with_one_line_of_notice(services):
    cog = ask_cog(FailingMidStream(services.settings))
    it = interaction()
    msg = fake_message()
    it.edit_original_response = AsyncMock(return_value=msg)
    await cog.ask.callback(cog, it, "what lives in a tide pool?")
    final = msg.edits[-1][1]
    assert final.splitlines()[0].startswith("-# note: the model's server closed the connection")
    assert final.splitlines()[1] == "Tide pools hold anemones and crabs [1]."  # no streamed sentence left behind
    assert [c[0] for c in it.calls] == ["defer"]


class LongStreamed(StreamingAnswers):
    def __init__(self, settings) -> None:
        super().__init__(settings, gap=0.0)
        passage = self.answer.passages[0]
        text = " ".join(
            f"Sentence number {i} says something fairly long about the topic at hand [1]." for i in range(60)
        )
        self.answer = Answer("q", text, False, [Citation(1, passage, "the quote")], [passage])


async def test_a_streamed_answer_over_one_message_continues_in_a_second_with_the_sources_on_the_last(services):
    fake = LongStreamed(services.settings)
    cog = ask_cog(fake)
    it = interaction()
    msg = fake_message()
    it.edit_original_response = AsyncMock(return_value=msg)
    await cog.ask.callback(cog, it, "Tell me everything")
    first = msg.edits[-1]
    rest = [c for c in it.calls if c[0] == "followup"]
    assert rest and len(first[1]) <= 2000 and first[1].endswith("[1].") and "embed" not in first[2]
    assert all(len(c[1][0]) <= 2000 for c in rest) and "embed" in rest[-1][2] and "view" in rest[-1][2]
    shown = " ".join([first[1], *(c[1][0] for c in rest)])
    assert " ".join(shown.split()) == " ".join(fake.answer.text.split())
