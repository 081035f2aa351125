"""Message flows through the real bot class, cogs and answerer, against dpytest's fake Discord."""

from __future__ import annotations

import discord
import discord.ext.test as dpytest
import pytest
import pytest_asyncio

from tests.discord_support import drain, fake_services, make_docs, mention, record_payloads, start_bot


def pings_nobody(payload: dict) -> bool:
    """Discord pings only what allowed_mentions permits: nothing parsed, no ids listed, no reply ping."""
    allowed = payload.get("allowed_mentions")
    return (
        allowed is not None
        and allowed.get("parse") == []
        and not allowed.get("users")
        and not allowed.get("roles")
        and not allowed.get("replied_user")
    )


@pytest.fixture
def services(tmp_path, docs_dir, fake_embedder):
    return fake_services(tmp_path, make_docs(docs_dir), fake_embedder)


@pytest_asyncio.fixture
async def bot(services):
    bot = await start_bot(services)
    yield bot
    await dpytest.empty_queue()


def channel(name: str) -> discord.TextChannel:
    return next(c for c in dpytest.get_config().channels if c.name == name)


def alice() -> discord.Member:
    return dpytest.get_config().members[0]


async def test_mention_gets_a_cited_answer_with_sources_embed_and_a_thread(bot):
    payloads = record_payloads(bot)
    question = await dpytest.message(
        mention(bot, "How often does a sourdough starter need feeding?"), channel("general")
    )
    sent = await drain()

    assert len(sent) == 1
    answer = sent[0]
    assert "once or twice a day" in answer.content
    assert "[1]" in answer.content
    assert answer.embeds and answer.embeds[0].title == "Sources"
    field = answer.embeds[0].fields[0]
    assert field.name.startswith("[1] ") and "sourdough-starter.txt" in field.value
    assert "\n> " not in field.value  # an extractive answer is its quotes: the embed says where, not again what
    assert payloads[0]["message_reference"]["message_id"] == question.id  # a reply to the question
    assert [c["custom_id"] for c in payloads[0]["components"][0]["components"]] == [
        "citebot:vote:up",
        "citebot:vote:down",
    ]
    thread = bot.get_channel(answer.id)
    assert isinstance(thread, discord.Thread) and thread.owner_id == bot.user.id
    assert thread.name.startswith("How often does a sourdough starter")
    assert all(pings_nobody(p) for p in payloads)


def watch_asks(services) -> list[tuple]:
    """Keep the real answerer, recording each (question, history) it is called with."""
    seen: list[tuple] = []
    real_ask = services.ask

    def ask(question, history=(), k=None):
        seen.append((question, tuple(history)))
        return real_ask(question, history, k)

    services.ask = ask
    return seen


async def test_follow_up_in_the_thread_continues_the_conversation_with_history(bot, services):
    seen = watch_asks(services)
    await dpytest.message(mention(bot, "How often does a sourdough starter need feeding?"), channel("general"))
    first = (await drain())[0]
    thread = bot.get_channel(first.id)
    assert isinstance(thread, discord.Thread)

    # A plain message (no mention) in the bot's thread is a follow-up.
    await dpytest.message("What is a tide pool?", thread, alice())
    follow = await drain()
    assert len(follow) == 1 and follow[0].channel.id == thread.id
    assert "tide" in follow[0].content.lower() and "[1]" in follow[0].content
    assert bot.get_channel(follow[0].id) is None  # no thread inside a thread

    await dpytest.message(mention(bot, "And what lives in them?"), thread, alice())
    await drain()
    assert [q for q, _ in seen] == [
        "How often does a sourdough starter need feeding?",
        "What is a tide pool?",
        "And what lives in them?",
    ]
    assert seen[0][1] == ()
    assert [t.question for t in seen[1][1]] == ["How often does a sourdough starter need feeding?"]
    assert [t.question for t in seen[2][1]] == [
        "How often does a sourdough starter need feeding?",
        "What is a tide pool?",
    ]
    assert seen[2][1][1].answer == follow[0].content


async def test_plain_messages_outside_the_bots_threads_are_ignored(bot):
    await dpytest.message("How often does a sourdough starter need feeding?", channel("general"))
    assert await drain() == []


async def test_document_with_everyone_and_role_mentions_is_answered_without_pinging(bot):
    payloads = record_payloads(bot)
    await dpytest.message(mention(bot, "When does the Harbour Street office reopen?"), channel("general"))
    sent = await drain()
    assert len(sent) == 1
    assert "@everyone" in sent[0].content  # the quoted sentence really carries the mention...
    assert "3 March" in sent[0].content
    assert payloads and all(pings_nobody(p) for p in payloads)  # ...and pings nobody


async def test_only_allowed_channels_get_answers(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder)
    bot = await start_bot(services)
    general = channel("general")
    services.settings.discord_channels = [general.id]
    try:
        await dpytest.message(mention(bot, "What is a tide pool?"), channel("random"))
        assert await drain() == []
        await dpytest.message(mention(bot, "What is a tide pool?"), general)
        assert len(await drain()) == 1
    finally:
        await dpytest.empty_queue()


async def test_rate_limit_answers_politely(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder, discord_rate_limit=2)
    bot = await start_bot(services)
    try:
        for _ in range(2):
            await dpytest.message(mention(bot, "What is a tide pool?"), channel("general"), alice())
        assert all("[1]" in m.content for m in await drain())
        await dpytest.message(mention(bot, "What is a tide pool?"), channel("general"), alice())
        (refusal,) = await drain()
        assert "faster than I can keep up" in refusal.content and "try again in" in refusal.content
        assert not refusal.embeds
        # Another person is not limited by alice's questions.
        bob = dpytest.get_config().members[1]
        await dpytest.message(mention(bot, "What is a tide pool?"), channel("general"), bob)
        assert "[1]" in (await drain())[0].content
    finally:
        await dpytest.empty_queue()


async def test_too_long_question_is_refused_with_the_reason(bot, services):
    await dpytest.message(mention(bot, "why " * 600), channel("general"))
    (reply,) = await drain()
    assert "too long" in reply.content and str(services.settings.max_question_chars) in reply.content


async def test_direct_messages_are_ignored_unless_enabled(bot, services):
    dm = await alice().create_dm()
    await dpytest.message("What is a tide pool?", dm, alice())
    assert await drain() == []
    services.settings.discord_allow_dms = True
    await dpytest.message("What is a tide pool?", dm, alice())
    (reply,) = await drain()
    assert "[1]" in reply.content


async def test_unexpected_error_gives_a_short_apology_and_logs_the_traceback(bot, services, caplog):
    def broken(question, history=(), k=None):
        raise RuntimeError("index exploded")

    services.ask = broken
    await dpytest.message(mention(bot, "What is a tide pool?"), channel("general"))
    (reply,) = await drain()
    assert reply.content.startswith("Sorry, something went wrong")
    assert "exploded" not in reply.content
    assert any("index exploded" in (r.exc_text or "") or r.exc_info for r in caplog.records)


@pytest.mark.e2e
async def test_mention_flow_with_the_real_model(tmp_path, docs_dir):
    from bot.services import Services
    from bot.settings import Settings

    docs = make_docs(docs_dir)
    services = Services(Settings(docs_dir=docs, index_dir=tmp_path / "index", data_dir=tmp_path / "data"))
    services.ingest(docs)
    bot = await start_bot(services)
    payloads = record_payloads(bot)
    try:
        await dpytest.message(mention(bot, "why did BlackBerry leave Pakistan?"), channel("general"))
        (answer,) = await drain()
        assert "[1]" in answer.content
        sources = answer.embeds[0].fields
        assert sources and all("blackberry-pakistan-exit.md" in f.value for f in sources)

        await dpytest.message(mention(bot, "When does the Harbour Street office reopen?"), channel("general"))
        (office,) = await drain()
        assert "3 March" in office.content
        assert all(pings_nobody(p) for p in payloads)
    finally:
        await dpytest.empty_queue()


async def test_thread_history_is_rebuilt_from_discord_after_a_restart(bot, services):
    from bot.discord_bot.cogs.ask import Conversations

    seen = watch_asks(services)
    await dpytest.message(mention(bot, "How often does a sourdough starter need feeding?"), channel("general"))
    first = (await drain())[0]
    thread = bot.get_channel(first.id)
    await dpytest.message("What is a tide pool?", thread, alice())
    follow = (await drain())[0]

    bot.get_cog("Ask").conversations = Conversations()  # what a restart leaves of the memory
    await dpytest.message("Which animals live there?", thread, alice())
    assert len(await drain()) == 1
    history = seen[-1][1]
    assert [t.question for t in history] == ["How often does a sourdough starter need feeding?", "What is a tide pool?"]
    assert [t.answer for t in history] == [first.content, follow.content]


async def test_a_mention_of_the_bots_managed_role_is_a_mention_of_the_bot(bot):
    """Where "@citebot" autocompletes to the role Discord made for the bot, the question is still answered."""
    guild = channel("general").guild
    role = dpytest.backend.make_role("citebot", guild)
    role.tags = discord.RoleTags({"bot_id": str(bot.user.id)})  # what Discord sends for a bot's managed role
    assert guild.self_role == role
    await dpytest.message(f"<@&{role.id}> How often does a sourdough starter need feeding?", channel("general"))
    (answer,) = await drain()
    assert "once or twice a day" in answer.content and "[1]" in answer.content
    other = dpytest.backend.make_role("moderators", guild)
    await dpytest.message(f"<@&{other.id}> How often does a sourdough starter need feeding?", channel("general"))
    assert await drain() == []  # another role's mention is not for the bot


async def test_with_a_model_a_mention_gets_one_reply_that_grows_into_the_answer(bot, services):
    payloads = record_payloads(bot)
    edits: list[dict] = []
    original_edit = bot.http.edit_message

    async def edit_message(channel_id, message_id, **fields):
        edits.append(dict(fields["params"].payload or {}))
        # dpytest reads the message as a local named `self` in its caller's frame: provide it here.
        self = discord.utils.get(bot.cached_messages, id=message_id)  # noqa: F841
        return await original_edit(channel_id, message_id, **fields)

    bot.http.edit_message = edit_message
    question = "How often does a sourdough starter need feeding?"
    result = services.ask(question)  # the extractive answer, standing in for the model's final one
    services.llm = object()  # a model is configured: the reply grows as its sentences are verified

    def ask(question, history=(), k=None, *, on_sentence=None):
        for sentence in ("Feed it once or twice a day [1]. ", "Keep it warm [1]. "):
            if on_sentence is not None:
                on_sentence(sentence)
        return result

    services.ask = ask
    await dpytest.message(mention(bot, question), channel("general"))
    sent = await drain()
    assert len(sent) == 1 and payloads[0]["content"] == "Looking…"  # one message, shown at once
    *growing, final = edits
    assert growing and all(e["content"].startswith("Feed it once or twice a day [1].") for e in growing)
    assert "wants feeding once or twice a day" in final["content"]  # the final answer replaces the stream
    assert final["embeds"][0]["title"] == "Sources" and final["components"]  # with its sources and vote buttons
    assert all(pings_nobody(p) for p in payloads + edits)
