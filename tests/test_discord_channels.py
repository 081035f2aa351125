"""A document set per channel: the channel map, the bot answering each channel from its own set, admin reports."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import discord.ext.test as dpytest
import pytest

from bot.discord_bot.channels import ChannelSets, from_entries, from_file
from bot.discord_bot.cogs.insights import InsightsCog
from bot.errors import ConfigError
from bot.questions.store import NewQuestion
from bot.services import Services
from bot.settings import Settings
from tests.discord_support import drain, fake_services, make_docs, mention, start_bot
from tests.support import run_cli
from tests.test_discord_commands import interaction, member


def settings(tmp_path, **kw) -> Settings:
    return Settings(docs_dir=tmp_path / "docs", index_dir=tmp_path / "i", data_dir=tmp_path / "d", **kw)


def test_a_plain_list_of_ids_is_still_an_allow_list(tmp_path):
    m = from_entries([10, 20], settings(tmp_path))
    assert m.set_for(10).name == "citebot" and m.set_for(30) is None
    assert m.set_for(99, parent_id=20) is not None  # a thread follows its parent
    assert from_entries([], settings(tmp_path)).set_for(30).name == "citebot"  # no map: every channel


def test_the_map_names_sets_leaves_channels_out_and_has_a_default(tmp_path):
    s = settings(tmp_path)
    m = from_entries(["10=api", "20=-", "30=deploy-docs", "*=api"], s)
    assert m.set_for(10).docs_dir == s.docs_dir / "api" and m.set_for(10).collection == "api"
    assert m.set_for(20) is None
    assert m.set_for(99).name == "api"  # unmapped: the default
    assert m.set_for(99, category_id=30).name == "deploy-docs"  # a channel follows its category
    assert m.set_for(20, category_id=30) is None  # ...unless mapped itself
    assert from_entries(["10=api"], s).set_for(99).name == "citebot"  # no *: the settings' own set
    assert from_entries(["10=api", "*=-"], s).set_for(99) is None


@pytest.mark.parametrize("entry", ["general=api", "10=a b", "10=x", "*=no/slash"])
def test_a_malformed_map_is_a_one_line_error(tmp_path, entry):
    with pytest.raises(ConfigError) as err:
        from_entries([entry], settings(tmp_path))
    assert "\n" not in str(err.value) and "CITEBOT_DISCORD_CHANNELS" in str(err.value)


def test_the_map_in_a_toml_file(tmp_path):
    path = tmp_path / "channels.toml"
    path.write_text(
        'default = "api"\n'
        '[sets.api]\ndocs = "docs/api"\n'
        '[sets.staff]\ndocs = "/srv/staff"\ncollection = "staff-docs"\n'
        '[channels]\n111 = "staff"\n222 = false\n',
        encoding="utf-8",
    )
    m = from_file(path, settings(tmp_path))
    assert m.set_for(111).collection == "staff-docs" and str(m.set_for(111).docs_dir) == "/srv/staff"
    assert m.set_for(222) is None and m.set_for(333).docs_dir == tmp_path / "docs" / "api"
    path.write_text('[channels]\n111 = "nope"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not defined"):
        from_file(path, settings(tmp_path))
    path.write_text("[channels\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        from_file(path, settings(tmp_path))


def test_the_bot_refuses_to_start_on_a_malformed_map_with_one_line(monkeypatch):
    monkeypatch.setenv("CITEBOT_DISCORD_TOKEN", "not-a-real-token")
    monkeypatch.setenv("CITEBOT_DISCORD_CHANNELS", "help-api=api")
    code, _, err = run_cli("discord")
    assert code == 1 and err.count("\n") == 1 and "'help-api=api'" in err


# -- the bot, over dpytest ------------------------------------------------------------------------
BREAD = "Title: Rye bread\n\nA rye sourdough starter is fed once a week with rye flour and kept in the fridge.\n"
OFFICE = "Title: Office plants\n\nThe office plants are watered every Tuesday by the facilities team.\n"


def channel(name: str) -> discord.TextChannel:
    return next(c for c in dpytest.get_config().channels if c.name == name)


@pytest.fixture
def two_sets(tmp_path, docs_dir, fake_embedder) -> Services:
    """The base set (the sample corpus) plus sets "bread" and "office", each ingested from its own folder."""
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder)
    for name, text in (("bread", BREAD), ("office", OFFICE)):
        folder = docs_dir / name
        folder.mkdir()
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
        services.for_set(name, folder).ingest(folder)
    return services


async def ask_in(bot, name: str, question: str) -> list[discord.Message]:
    await dpytest.message(mention(bot, question), channel(name))
    return await drain()


def cited(message: discord.Message) -> set[str]:
    return {f.value.split("`")[1] for f in message.embeds[0].fields} if message.embeds else set()


async def test_two_channels_mapped_to_different_sets_answer_from_their_own_documents(two_sets):
    bot = await start_bot(two_sets)
    two_sets.settings.discord_channels = [f"{channel('general').id}=bread", f"{channel('random').id}=office"]
    try:
        (general,) = await ask_in(bot, "general", "How often is the sourdough starter fed?")
        (random,) = await ask_in(bot, "random", "How often is the sourdough starter fed?")
        assert cited(general) == {"bread.md"} and "once a week" in general.content
        assert cited(random) <= {"office.md"}  # the office set knows nothing of starters: never the bread page
        (plants,) = await ask_in(bot, "random", "When are the office plants watered?")
        assert cited(plants) == {"office.md"} and "Tuesday" in plants.content
        thread = bot.get_channel(general.id)  # the thread opened on the answer in #general
        assert isinstance(thread, discord.Thread)
        await dpytest.message("When are the office plants watered?", thread, dpytest.get_config().members[0])
        (follow,) = await drain()
        assert follow.channel.id == thread.id and cited(follow) <= {"bread.md"}  # the thread follows #general
    finally:
        await dpytest.empty_queue()


@pytest.fixture
def two_sources(tmp_path, fake_embedder) -> Services:
    """One index holding two sources, "bread" and "office", each a folder of its own."""
    base = tmp_path / "sources"
    for name, text in (("bread", BREAD), ("office", OFFICE)):
        (base / name).mkdir(parents=True)
        (base / name / f"{name}.md").write_text(text, encoding="utf-8")
    services = fake_services(tmp_path, base / "bread", fake_embedder)
    services.ingest(base / "office")
    assert [r.name for r in services.catalog.sources()] == ["bread", "office"]
    return services


async def test_channels_mapped_to_sources_of_one_index_answer_from_those_sources(two_sources, tmp_path):
    bot = await start_bot(two_sources)
    path = tmp_path / "channels.toml"
    path.write_text(
        '[sets.kitchen]\nsources = ["bread"]\n[sets.facilities]\nsources = ["office"]\n'
        f'[channels]\n{channel("general").id} = "kitchen"\n{channel("random").id} = "facilities"\n',
        encoding="utf-8",
    )
    two_sources.settings.discord_channels_file = path
    try:
        (kitchen,) = await ask_in(bot, "general", "When are the office plants watered?")
        assert cited(kitchen) <= {"bread.md"} and "Tuesday" not in kitchen.content  # the office is not its source
        (facilities,) = await ask_in(bot, "random", "When are the office plants watered?")
        assert cited(facilities) == {"office.md"} and "Tuesday" in facilities.content
    finally:
        await dpytest.empty_queue()


def test_a_set_of_sources_is_read_from_the_toml_map_and_checked(tmp_path):
    path = tmp_path / "channels.toml"
    path.write_text('[sets.guide]\nsources = ["guide", "faq"]\n[channels]\n1 = "guide"\n', encoding="utf-8")
    s = settings(tmp_path)
    guide = from_file(path, s).set_for(1)
    assert (guide.collection, guide.docs_dir, guide.sources) == (s.collection, s.docs_dir, ("guide", "faq"))
    path.write_text('[sets.guide]\nsources = "guide"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a list of source names"):
        from_file(path, s)


async def test_an_unmapped_channel_uses_the_default_and_a_left_out_one_gets_no_answer(two_sets):
    bot = await start_bot(two_sets)
    two_sets.settings.discord_channels = [f"{channel('general').id}=bread"]
    try:
        (answer,) = await ask_in(bot, "random", "How often does a sourdough starter need feeding?")
        assert cited(answer) == {"sourdough-starter.txt"}  # the settings' own set, not "bread"
        two_sets.settings.discord_channels = [f"{channel('general').id}=bread", f"{channel('random').id}=-"]
        assert await ask_in(bot, "random", "How often does a sourdough starter need feeding?") == []
        assert len(await ask_in(bot, "general", "How often is the sourdough starter fed?")) == 1
    finally:
        await dpytest.empty_queue()


async def test_discord_questions_are_logged_with_channel_set_hashed_user_and_their_message(two_sets):
    bot = await start_bot(two_sets)
    two_sets.settings.discord_channels = [f"{channel('general').id}=bread"]
    try:
        (answer,) = await ask_in(bot, "general", "How often is the sourdough starter fed?")
    finally:
        await dpytest.empty_queue()
    (q,) = two_sets.questions.questions()
    assert (q.origin, q.channel, q.collection, q.cited) == (
        "discord",
        str(channel("general").id),
        "bread",
        ["bread.md"],
    )
    assert q.latency_ms is not None and q.latency_ms > 0
    two_sets.questions.vote(message_id=answer.id, user="x", vote="down")
    assert two_sets.questions.questions()[0].down == 1  # a vote on the answer's message joins its question


# -- /citebot gaps and /citebot stats -------------------------------------------------------------
def insights(services: Services) -> InsightsCog:
    return InsightsCog(services, ChannelSets(services))


async def test_citebot_gaps_and_stats_are_for_admins_and_answered_ephemerally(tmp_path, docs_dir, fake_embedder):
    services = fake_services(tmp_path, make_docs(docs_dir), fake_embedder)
    questions = services.questions
    for i, q in enumerate(["how do I rotate api keys?", "can I rotate api keys?", "rotate api keys weekly"]):
        questions.record(NewQuestion("discord", "citebot", q, q, True, passages=[("keys.md", "")], latency_ms=10.0 * i))
    questions.record(NewQuestion("cli", "citebot", "what is a tide pool?", "x", False, cited=["tide-pools.md"]))
    cog = insights(services)

    it = interaction(user=member())
    await cog.gaps.callback(cog, it)
    ((name, args, kwargs),) = it.calls
    assert name == "send_message" and kwargs["ephemeral"] and "Manage Server" in args[0]

    it = interaction(user=member(manage_guild=True))
    await cog.gaps.callback(cog, it)
    assert [c[0] for c in it.calls] == ["defer", "followup"]
    assert it.calls[0][2] == {"thinking": True, "ephemeral": True}
    embed = it.calls[1][2]["embed"]
    assert it.calls[1][2]["ephemeral"] is True and it.calls[1][2]["allowed_mentions"].to_dict() == {"parse": []}
    assert "4 question(s), 3 not answered" in embed.description
    assert embed.fields[0].name.startswith("3 × ") and "`keys.md`" in embed.fields[0].value
    assert len(embed) <= 6000

    it = interaction(user=member(manage_guild=True))
    await cog.stats.callback(cog, it)
    values = {f.name: f.value for f in it.calls[1][2]["embed"].fields}
    assert values["Questions"] == "4" and values["Abstained"] == "3 (75%)" and values["p95 latency"] == "20 ms"
    assert values["Votes"] == "0 👍 / 0 👎"


def test_gaps_in_a_dm_or_left_out_channel_cover_every_set(tmp_path):
    services = Services(settings(tmp_path, discord_channels="10=api,20=-"))
    cog = insights(services)
    assert cog._scope(SimpleNamespace(channel=SimpleNamespace(id=20))) == (None, "all sets")  # type: ignore[arg-type]
    assert cog._scope(SimpleNamespace(channel=SimpleNamespace(id=10))) == ("api", "set api")  # type: ignore[arg-type]
