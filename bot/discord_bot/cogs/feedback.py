"""Feedback: 👍/👎 buttons under each answer, recorded to the data folder's feedback.jsonl.

The buttons are persistent ``DynamicItem``s (their ``custom_id`` says the vote), so they keep
working after a restart; the answer they refer to is remembered by message id, and read back
from the message itself when the bot has restarted since.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from typing import Any

import discord
from discord.ext import commands

from bot.discord_bot.feedback_log import AnswerRecord, FeedbackStore
from bot.discord_bot.replies import NO_PINGS, SOMETHING_WRONG, respond

log = logging.getLogger(__name__)

_EMOJI = {"up": "👍", "down": "👎"}
_CITATION_FIELD = re.compile(r"^\[(\d+)\]\s*(.*)$")


class AnswerLog:
    """The most recent answers by the id of the message that carries their buttons (bounded)."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._items: OrderedDict[int, AnswerRecord] = OrderedDict()

    def remember(self, message_id: int, record: AnswerRecord) -> None:
        self._items[message_id] = record
        self._items.move_to_end(message_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, message_id: int) -> AnswerRecord | None:
        return self._items.get(message_id)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"citebot:vote:(?P<vote>up|down)"):
    """A 👍 or 👎 button; clicks are routed to the FeedbackCog."""

    def __init__(self, vote: str) -> None:
        super().__init__(
            discord.ui.Button(
                emoji=_EMOJI[vote],
                style=discord.ButtonStyle.secondary,
                custom_id=f"citebot:vote:{vote}",
            )
        )
        self.vote = vote

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        cog = (
            interaction.client.get_cog(FeedbackCog.__cog_name__)
            if isinstance(interaction.client, commands.Bot)
            else None
        )
        if not isinstance(cog, FeedbackCog):
            await respond(interaction, SOMETHING_WRONG)
            return
        await cog.record_vote(interaction, self.vote)


def vote_view() -> discord.ui.View:
    """The buttons attached to an answer."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up"))
    view.add_item(VoteButton("down"))
    return view


class FeedbackCog(commands.Cog, name="Feedback"):
    """Records votes on answers."""

    def __init__(self, store: FeedbackStore, answers: AnswerLog | None = None) -> None:
        self.store = store
        self.answers = answers or AnswerLog()

    async def record_vote(self, interaction: discord.Interaction, vote: str) -> None:
        """Store the vote (user id hashed) and thank the voter privately."""
        message = interaction.message
        if message is None:
            await respond(interaction, SOMETHING_WRONG)
            return
        record = self.answers.get(message.id) or record_from_message(message)
        try:
            await asyncio.to_thread(
                self.store.record, vote=vote, user_id=interaction.user.id, message_id=message.id, answer=record
            )
        except OSError:
            log.exception("could not record feedback in %s", self.store.path)
            await respond(interaction, SOMETHING_WRONG)
            return
        await interaction.response.send_message(
            f"Thanks for the feedback {_EMOJI[vote]}", ephemeral=True, allowed_mentions=NO_PINGS
        )


def record_from_message(message: discord.Message) -> AnswerRecord:
    """Rebuild what a vote is about from the answer message (after a restart the log is empty).

    The question is not on the message; the record says so rather than guessing.
    """
    sources: list[dict[str, Any]] = []
    for embed in message.embeds[:1]:
        for f in embed.fields:
            m = _CITATION_FIELD.match(f.name or "")
            if m:
                sources.append({"id": int(m[1]), "title": m[2], "quote": (f.value or "").partition("\n> ")[2]})
    return AnswerRecord(question="", answer=message.content, sources=sources)
