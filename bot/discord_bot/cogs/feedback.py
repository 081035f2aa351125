"""Feedback: 👍/👎 buttons under each answer, recorded in the questions log (joined to the question asked).

The buttons are persistent ``DynamicItem``s (their ``custom_id`` says the vote), so they keep
working after a restart; a vote names the answer's message, which the log joins to its question.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from typing import Any

import discord
from discord.ext import commands

from bot.discord_bot.feedback_log import AnswerRecord
from bot.discord_bot.replies import NO_PINGS, SOMETHING_WRONG, respond
from bot.questions.store import QuestionLog

log = logging.getLogger(__name__)

_EMOJI = {"up": "👍", "down": "👎"}


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
    """Records votes on answers (nowhere when the questions log is off: CITEBOT_QUESTIONS_LOG=false)."""

    def __init__(self, questions: QuestionLog | None, answers: AnswerLog | None = None) -> None:
        self.questions = questions
        self.answers = answers or AnswerLog()

    async def record_vote(self, interaction: discord.Interaction, vote: str) -> None:
        """Store the vote (user id hashed; each person's latest vote counts) and thank the voter privately."""
        message = interaction.message
        if message is None:
            await respond(interaction, SOMETHING_WRONG)
            return
        if self.questions is not None:
            try:
                await asyncio.to_thread(self._store, self.questions, vote, interaction.user.id, message.id)
            except OSError:
                log.exception("could not record feedback in %s", self.questions.path)
                await respond(interaction, SOMETHING_WRONG)
                return
        await interaction.response.send_message(
            f"Thanks for the feedback {_EMOJI[vote]}", ephemeral=True, allowed_mentions=NO_PINGS
        )

    @staticmethod
    def _store(questions: QuestionLog, vote: str, user_id: int, message_id: int) -> None:
        if not questions.vote(message_id=message_id, user=questions.hash_user(user_id), vote=vote):
            log.warning("a %s vote on message %s was not recorded (see the warning above)", vote, message_id)
