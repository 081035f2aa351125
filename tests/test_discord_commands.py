"""Slash commands and buttons with AsyncMock interactions, over the real cogs and a real index."""

from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands

from bot.discord_bot.app import SOMETHING_WRONG, CitebotBot
from bot.discord_bot.cogs.admin import AdminCog
from bot.discord_bot.cogs.ask import AskCog
from bot.discord_bot.cogs.feedback import AnswerLog, FeedbackCog, VoteButton
from bot.errors import NotIngestedError
from bot.questions.store import NewQuestion, QuestionLog
from bot.schema import Answer, Citation, Passage
from ingest.index.lock import ingest_lock
from tests.discord_support import fake_services, make_docs

BOT_ID = 900000000000000001


@pytest.fixture
def services(tmp_path, docs_dir, fake_embedder):
    return fake_services(tmp_path, make_docs(docs_dir), fake_embedder)


def text_channel(channel_id: int = 111) -> MagicMock:
    channel = MagicMock(spec=discord.TextChannel)
    channel.id = channel_id
    return channel


def interaction(*, channel=None, user_id: int = 42, user=None, guild_id: int | None = 7) -> MagicMock:
    """An Interaction whose response/follow-up calls are recorded, in order, in ``calls``."""
    calls: list[tuple[str, tuple, dict]] = []
    it = MagicMock(spec=discord.Interaction)
    it.calls = calls
    it.channel = channel if channel is not None else text_channel()
    it.channel_id = it.channel.id
    it.guild_id = guild_id
    it.user = user or SimpleNamespace(id=user_id)
    done = {"value": False}

    def record(name, result=None, finishes=False):
        async def call(*args, **kwargs):
            calls.append((name, args, kwargs))
            if finishes:
                done["value"] = True
            return result() if callable(result) else result

        return AsyncMock(side_effect=call)

    counter = iter(range(5000, 6000))

    def sent_message():
        msg = MagicMock(spec=discord.WebhookMessage)
        msg.id = next(counter)
        msg.create_thread = record("create_thread", SimpleNamespace(id=msg.id))
        return msg

    it.response = MagicMock()
    it.response.is_done = lambda: done["value"]
    it.response.defer = record("defer", finishes=True)
    it.response.send_message = record("send_message", finishes=True)
    it.followup = MagicMock()
    it.followup.send = record("followup", sent_message)
    return it


def ask_cog(services, log: AnswerLog | None = None) -> AskCog:
    bot = MagicMock(spec=discord.ext.commands.Bot)
    bot.user = SimpleNamespace(id=BOT_ID)
    return AskCog(bot, services, answer_log=log)


async def test_ask_defers_before_answering_then_follows_up_with_answer_sources_and_thread(services):
    it = interaction()
    real_ask = services.ask
    deferred_at_ask: list[bool] = []

    def watched(question, history=(), k=None):
        deferred_at_ask.append([c[0] for c in it.calls] == ["defer"])
        return real_ask(question, history, k)

    services.ask = watched
    log = AnswerLog()
    cog = ask_cog(services, log)
    await cog.ask.callback(cog, it, "What is a tide pool?")

    assert deferred_at_ask == [True]  # the slow part ran only after the 3-second acknowledgement
    names = [c[0] for c in it.calls]
    assert names == ["defer", "followup", "create_thread"]
    assert it.calls[0][2] == {"thinking": True}
    _, args, kwargs = it.calls[1]
    assert "[1]" in args[0] and "tide" in args[0].lower()
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert kwargs["embed"].title == "Sources" and kwargs["wait"] is True
    assert {type(i) for i in kwargs["view"].children} == {VoteButton}
    assert it.calls[2][2]["name"] == "What is a tide pool?"
    thread_id = 5000  # the first follow-up message's id; the thread takes it
    assert [t.question for t in cog.conversations.history(thread_id)] == ["What is a tide pool?"]
    assert log.get(5000) is not None and log.get(5000).question == "What is a tide pool?"


class LongAnswers:
    """Services stand-in whose answer is longer than one Discord message (the real one is short)."""

    questions = None  # no questions log
    llm = None  # extractive: one message, no live edits

    def __init__(self, settings):
        self.settings = settings
        passage = Passage(chunk_id="c1", source="notes/long.md", text="x", score=1.0, title="Long notes")
        sentences = [f"Sentence number {i} says something fairly long about the topic at hand [1]." for i in range(80)]
        self.text = " ".join(sentences[:40]) + "\n\n" + " ".join(sentences[40:])
        self.answer = Answer("q", self.text, False, [Citation(1, passage, "the quote")], [passage])

    def check_question(self, question):
        return question

    def ask(self, question, history=(), k=None):
        return self.answer


async def test_ask_splits_long_answers_and_puts_sources_on_the_last_part(services):
    fake = LongAnswers(services.settings)
    cog = ask_cog(fake)
    it = interaction()
    await cog.ask.callback(cog, it, "Tell me everything")
    parts = [c for c in it.calls if c[0] == "followup"]
    assert len(parts) >= 3
    contents = [c[1][0] for c in parts]
    assert all(len(t) <= 2000 for t in contents)
    assert all(t.rstrip().endswith("[1].") for t in contents)  # cut between sentences, markers kept
    assert " ".join(" ".join(contents).split()) == " ".join(fake.text.split())
    assert [("embed" in c[2], "view" in c[2]) for c in parts] == [(False, False)] * (len(parts) - 1) + [(True, True)]


async def test_ask_refuses_over_long_questions_without_deferring(services):
    cog = ask_cog(services)
    it = interaction()
    await cog.ask.callback(cog, it, "why " * 1000)
    ((name, args, kwargs),) = it.calls
    assert name == "send_message" and kwargs["ephemeral"] is True
    assert "too long" in args[0]


async def test_ask_outside_allowed_channels_is_refused_ephemerally(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder, discord_channels="5,6")
    cog = ask_cog(services)
    it = interaction(channel=text_channel(111))
    await cog.ask.callback(cog, it, "What is a tide pool?")
    ((name, args, kwargs),) = it.calls
    assert name == "send_message" and kwargs["ephemeral"] and "this channel" in args[0]


async def test_ask_in_a_dm_is_refused_unless_enabled(services):
    cog = ask_cog(services)
    dm = MagicMock(spec=discord.DMChannel)
    dm.id = 99
    it = interaction(channel=dm, guild_id=None)
    await cog.ask.callback(cog, it, "What is a tide pool?")
    assert [c[0] for c in it.calls] == ["send_message"]


async def test_app_command_errors_are_short_and_ephemeral(services, caplog):
    bot = CitebotBot(services)
    it = interaction()
    it.command = SimpleNamespace(name="ask")
    await it.response.defer()
    boom = app_commands.CommandInvokeError(MagicMock(), RuntimeError("secret internals"))
    await bot.on_app_command_error(it, boom)
    name, args, kwargs = it.calls[-1]
    assert name == "followup" and kwargs["ephemeral"] is True and args[0] == SOMETHING_WRONG
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)

    user_error = app_commands.CommandInvokeError(MagicMock(), NotIngestedError("no documents are indexed yet"))
    await bot.on_app_command_error(it, user_error)
    assert it.calls[-1][1][0] == "I can't answer that: no documents are indexed yet"


def member(*, manage_guild: bool = False, role_ids: tuple[int, ...] = ()) -> MagicMock:
    m = MagicMock(spec=discord.Member)
    m.id = 77
    m.guild_permissions = discord.Permissions(manage_guild=manage_guild)
    m.roles = [SimpleNamespace(id=r) for r in role_ids]
    return m


async def test_reingest_is_only_for_managers_and_admin_roles(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder, discord_admin_roles="555")
    (services.settings.docs_dir / "new-note.md").write_text("Title: Kites\n\nBox kites fly well in steady wind.\n")
    cog = AdminCog(services)

    it = interaction(user=member(role_ids=(1, 2)))
    await cog.reingest.callback(cog, it)
    ((name, args, kwargs),) = it.calls
    assert name == "send_message" and kwargs["ephemeral"] and "Manage Server" in args[0]
    assert "new-note.md" not in {p.source for p in services.search("box kites steady wind", 3)}  # nothing ran

    reports = []
    for allowed in (member(role_ids=(555,)), member(manage_guild=True)):
        it = interaction(user=allowed)
        await cog.reingest.callback(cog, it)
        assert [c[0] for c in it.calls] == ["defer", "followup"]
        assert it.calls[0][2] == {"thinking": True, "ephemeral": True}
        reports.append(it.calls[1][1][0])
    assert reports[0].startswith("Re-ingest done") and ": 1 added, 0 updated, 6 unchanged" in reports[0]
    assert ": 0 added, 0 updated, 7 unchanged" in reports[1]
    assert "new-note.md" in {p.source for p in services.search("box kites steady wind", 3)}


async def test_reingest_while_another_process_ingests_says_so_and_the_bot_goes_on(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder)
    cog = AdminCog(services)
    s = services.settings
    with ingest_lock(client=None, name=s.collection, wait=0, place=services.place):  # as another process would
        it = interaction(user=member(manage_guild=True))
        await cog.reingest.callback(cog, it)
    assert [c[0] for c in it.calls] == ["defer", "followup"]
    reply = it.calls[1][1][0]
    assert reply.startswith("Re-ingest failed: another ingest (pid") and "writing this index" in reply
    it = interaction(user=member(manage_guild=True))
    await cog.reingest.callback(cog, it)  # the lock is free again
    assert it.calls[1][1][0].startswith("Re-ingest done")


async def test_vote_buttons_record_the_vote_on_the_logged_question_with_a_hashed_user(tmp_path):
    questions = QuestionLog(tmp_path / "data" / "questions.sqlite")
    questions.record(NewQuestion("discord", "docs", "What is A?", "What is A?", False, cited=["a.md"], message_id=321))
    cog = FeedbackCog(questions)
    it = interaction(user_id=123456789012345678)
    it.message = SimpleNamespace(id=321, content="A is a letter [1].", embeds=[])
    it.client = MagicMock(spec=discord.ext.commands.Bot)
    it.client.get_cog = lambda name: cog if name == "Feedback" else None

    await VoteButton("down").callback(it)
    (q,) = questions.questions()
    assert (q.question, q.down, q.up) == ("What is A?", 1, 0)
    (vote,) = questions.votes()
    assert vote["message_id"] == "321" and vote["question"] == "What is A?" and len(vote["user"]) == 24
    assert b"123456789012345678" not in questions.path.read_bytes()
    assert [c[0] for c in it.calls] == ["send_message"] and it.calls[0][2]["ephemeral"] is True


def test_turns_are_paired_by_reply_reference_whatever_the_fetch_order():
    from bot.discord_bot.cogs.ask import turns_from_messages
    from bot.schema import Turn

    def msg(mid, author, content, ref=None, bot=False):
        reference = SimpleNamespace(message_id=ref) if ref else None
        return SimpleNamespace(id=mid, author=SimpleNamespace(id=author, bot=bot), content=content, reference=reference)

    me = BOT_ID
    messages = [
        msg(1, 5, f"<@{me}> q1"),
        msg(2, 6, "q2"),  # asked before the answer to q1 arrived
        msg(3, me, "a2", ref=2, bot=True),
        msg(4, me, "a1", ref=1, bot=True),
        msg(5, me, "a1 part two", bot=True),  # second part of a split answer
        msg(6, 99, "another bot", bot=True),
    ]
    turns = turns_from_messages(Turn("start", "a0"), list(reversed(messages)), me)
    assert turns == [Turn("start", "a0"), Turn("q2", "a2"), Turn("q1", "a1\n\na1 part two")]


async def test_bot_follows_the_docs_folder_when_enabled(tmp_path, docs_dir, fake_embedder):
    import asyncio

    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder, discord_watch_docs=True)
    cog = AdminCog(services)
    await cog.cog_load()
    try:
        assert cog.watching
        await asyncio.sleep(0.5)  # let the watcher start
        (docs_dir / "kites.md").write_text("Title: Kites\n\nBox kites fly well in steady wind.\n")
        for _ in range(100):
            await asyncio.sleep(0.2)
            if "kites.md" in {p.source for p in services.search("box kites steady wind", 3)}:
                break
        assert "kites.md" in {p.source for p in services.search("box kites steady wind", 3)}
    finally:
        await cog.cog_unload()
    assert not cog.watching
