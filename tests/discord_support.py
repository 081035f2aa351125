"""Test support for the Discord bot: real Services over a small real index, and dpytest set-up.

dpytest 0.7 does not implement thread creation (``start_thread_with_message`` falls through to
its NotImplementedError). ``enable_threads`` adds it the way Discord does it: the REST call
returns the thread, and the gateway's THREAD_CREATE puts it in the guild's cache, so messages
can then be posted in it with ``dpytest.message(..., channel=thread)``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
from discord.ext.test import backend

from bot.discord_bot.app import CitebotBot
from bot.services import Services
from bot.settings import Settings

ANNOUNCEMENT = """Title: Harbour office move

@everyone The Harbour Street office reopens on 3 March after the flood repairs. <@&112233445566778899> please pack
your desks by Friday so the movers can start on Monday.

The new office has a bicycle store in the basement and a roof garden with twelve raised beds.
"""


def make_docs(docs_dir: Path) -> Path:
    """The sample corpus plus a document that tries to ping everyone and a role."""
    (docs_dir / "office-move.md").write_text(ANNOUNCEMENT, encoding="utf-8")
    return docs_dir


def fake_services(tmp_path: Path, docs_dir: Path, embedder: Any, **overrides: Any) -> Services:
    """Real Services, real Chroma, real answerer; the embedder is the hashed bag of words."""
    settings = Settings(
        docs_dir=docs_dir,
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        answer_confidence=0.0,  # answerability is calibrated for the real model, not the bag of words
        **overrides,
    )
    services = Services(settings, embedder=embedder)  # no model is loaded
    services.ingest(docs_dir)
    return services


def enable_threads(bot: discord.Client) -> None:
    """Teach dpytest's fake HTTP client to create a thread on a message (see module docstring)."""
    http = bot.http

    async def start_thread_with_message(
        channel_id: int, message_id: int, *, name: str, auto_archive_duration: int, **_: Any
    ) -> dict[str, Any]:
        channel = bot.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        data: dict[str, Any] = {
            "id": str(message_id),  # Discord gives a thread started on a message that message's id
            "guild_id": str(channel.guild.id),
            "parent_id": str(channel_id),
            "owner_id": str(bot.user.id),  # type: ignore[union-attr]
            "name": name,
            "type": discord.ChannelType.public_thread.value,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": auto_archive_duration,
                "archive_timestamp": dt.datetime.now(dt.UTC).isoformat(),
                "locked": False,
            },
            "newly_created": True,
        }
        backend.get_state().parse_thread_create(data)
        return data

    http.start_thread_with_message = start_thread_with_message  # type: ignore[method-assign]


def record_payloads(bot: discord.Client) -> list[dict[str, Any]]:
    """Every message payload the bot sends, as it would go to Discord (dpytest drops allowed_mentions)."""
    sent: list[dict[str, Any]] = []
    original = bot.http.send_message

    async def send_message(channel_id: int, *, params: Any) -> Any:
        sent.append(dict(params.payload or {}))
        # dpytest reads a local named `channel` from its caller's frame: provide it here.
        channel = bot.get_channel(channel_id)  # noqa: F841
        return await original(channel_id, params=params)

    bot.http.send_message = send_message  # type: ignore[method-assign]
    return sent


async def start_bot(services: Services) -> CitebotBot:
    """The real bot class with its cogs, wired to dpytest's fake Discord."""
    bot = CitebotBot(services)
    # dpytest resolves mentions from its member cache (real Discord sends them in the message), and
    # members are only cached with the members intent, which the bot itself does not need.
    state = bot._connection
    state._intents.members = True
    state.member_cache_flags = discord.MemberCacheFlags.from_intents(state._intents)
    await bot._async_setup_hook()
    await bot.load_features()
    dpytest.configure(bot, members=["alice", "bob"], text_channels=["general", "random"], voice_channels=0)
    await bot._async_setup_hook()  # again: dpytest's fresh connection state needs the running loop
    enable_threads(bot)
    return bot


def mention(bot: discord.Client, text: str) -> str:
    return f"<@{bot.user.id}> {text}"  # type: ignore[union-attr]


async def drain() -> list[discord.Message]:
    """Every message the bot sent since the last drain, oldest first."""
    await dpytest.run_all_events()
    out = []
    while not dpytest.sent_queue.empty():
        out.append(dpytest.get_message())
    return out
