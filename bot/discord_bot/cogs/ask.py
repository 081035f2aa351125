"""Asking: `/ask question:` and mentioning the bot; follow-ups in the answer's thread keep a history.

Every handler acknowledges at once (a deferred "thinking" response, or typing), answers off the
event loop, and sends with no pings allowed: answers quote documents, which may say @everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot.channels import ChannelSets, DocSet
from bot.discord_bot.cogs.feedback import AnswerLog, vote_view
from bot.discord_bot.feedback_log import AnswerRecord
from bot.discord_bot.format import answer_messages, sources_embed
from bot.discord_bot.live import LiveReply, Opener, Sender
from bot.discord_bot.ratelimit import RateLimiter
from bot.discord_bot.replies import NO_PINGS, SOMETHING_WRONG, extras, respond
from bot.errors import USER_ERRORS
from bot.questions.recording import Asked, ask_and_log
from bot.schema import HISTORY_TURNS, Answer, Turn
from bot.services import Services

log = logging.getLogger(__name__)

THREAD_NAME = 100


class Conversations:
    """Per-thread (or per-DM) history, bounded in threads and turns; lost on restart."""

    def __init__(self, max_threads: int = 2000, max_turns: int = HISTORY_TURNS) -> None:
        self.max_threads = max_threads
        self.max_turns = max_turns
        self._turns: OrderedDict[int, list[Turn]] = OrderedDict()

    def history(self, key: int) -> tuple[Turn, ...]:
        return tuple(self._turns.get(key, ()))

    def knows(self, key: int) -> bool:
        return key in self._turns

    def add(self, key: int, turn: Turn) -> None:
        turns = self._turns.pop(key, [])
        turns.append(turn)
        self._turns[key] = turns[-self.max_turns :]
        while len(self._turns) > self.max_threads:
            self._turns.popitem(last=False)


def strip_mentions(content: str, bot_id: int, role_id: int | None = None) -> str:
    """The question without the bot's mention(s), its user's or its managed role's."""
    content = re.sub(rf"<@!?{bot_id}>", " ", content)
    if role_id is not None:
        content = re.sub(rf"<@&{role_id}>", " ", content)
    return content.strip()


def bot_role_id(message: discord.Message) -> int | None:
    """The id of the role Discord made for the bot in this server (what "@citebot" may resolve to)."""
    role = message.guild.self_role if message.guild is not None else None
    return role.id if role is not None else None


class AskCog(commands.Cog, name="Ask"):
    """Answers questions asked by slash command or by mention, and follow-ups in its threads."""

    def __init__(
        self,
        bot: commands.Bot,
        services: Services,
        *,
        answer_log: AnswerLog | None = None,
        sets: ChannelSets | None = None,
    ) -> None:
        self.bot = bot
        self.services = services
        self.settings = services.settings
        self.sets = sets or ChannelSets(services)
        self.limiter = RateLimiter(self.settings.discord_rate_limit)
        self.conversations = Conversations()
        self.answers = answer_log or AnswerLog()
        self._slots = asyncio.Semaphore(2)  # answers computed at once; the rest wait their turn

    # -- slash command -----------------------------------------------------------------------
    @app_commands.command(name="ask", description="Ask a question about the indexed documents.")
    @app_commands.describe(question="What do you want to know?")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        channel = interaction.channel
        doc_set = self.sets.set_for(channel, interaction.guild_id is not None)
        if doc_set is None:
            await respond(interaction, "I don't answer questions in this channel.")
            return
        refusal = self._refusal(interaction.user.id)
        if refusal:
            await respond(interaction, refusal)
            return
        try:
            question = self.services.check_question(question)
        except USER_ERRORS as exc:
            await respond(interaction, f"I can't answer that: {exc}")
            return
        await interaction.response.defer(thinking=True)

        async def send(content: str, embed: discord.Embed | None, view: discord.ui.View | None) -> discord.Message:
            return await interaction.followup.send(content, wait=True, allowed_mentions=NO_PINGS, **extras(embed, view))

        async def open_reply(text: str) -> discord.Message:
            return await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)

        live = await self._live(doc_set, open_reply, send)
        key = channel.id if isinstance(channel, discord.Thread) and self.conversations.knows(channel.id) else None
        asked = await self._answer(
            question,
            self.conversations.history(key) if key else (),
            doc_set,
            interaction.channel_id,
            interaction.user.id,
            live,
        )
        result = asked.answer
        first = await self._deliver(asked, live.first_part if live else send, send)
        if key is not None:
            self.conversations.add(key, Turn(question, result.text))
        elif isinstance(channel, discord.TextChannel):
            await self._open_thread(first, question, result)

    # -- mentions and thread follow-ups ------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention of the bot, a message in one of its threads, or a DM (when enabled)."""
        me = self.bot.user
        if me is None or message.author.bot or message.is_system():
            return
        channel = message.channel
        in_guild = message.guild is not None
        our_thread = isinstance(channel, discord.Thread) and channel.owner_id == me.id
        role_id = bot_role_id(message)
        mentioned = me.id in message.raw_mentions or (role_id is not None and role_id in message.raw_role_mentions)
        if in_guild and not (mentioned or our_thread):
            return
        try:
            doc_set = self.sets.set_for(channel, in_guild)
            if doc_set is None:
                return
            question = strip_mentions(message.content, me.id, role_id)
            await self._handle_message(message, question, our_thread or not in_guild, doc_set)
        except USER_ERRORS as exc:
            await self._reply_safely(message, f"I can't answer that: {exc}")
        except Exception:
            log.exception("answering message %s failed", message.id)
            await self._reply_safely(message, SOMETHING_WRONG)

    async def _handle_message(
        self, message: discord.Message, question: str, conversation: bool, doc_set: DocSet
    ) -> None:
        if not question:
            await self._reply_safely(message, "Ask me a question after the mention, e.g. `@me what is a tide pool?`")
            return
        refusal = self._refusal(message.author.id)
        if refusal:
            await self._reply_safely(message, refusal)
            return
        question = self.services.check_question(question)
        channel = message.channel
        if conversation and isinstance(channel, discord.Thread) and not self.conversations.knows(channel.id):
            await self._recover_thread(channel, message)
        history = self.conversations.history(channel.id) if conversation else ()

        async def reply(content: str, embed: discord.Embed | None, view: discord.ui.View | None) -> discord.Message:
            return await channel.send(
                content, reference=_ref(message), allowed_mentions=NO_PINGS, **extras(embed, view)
            )

        async def follow(content: str, embed: discord.Embed | None, view: discord.ui.View | None) -> discord.Message:
            return await channel.send(content, allowed_mentions=NO_PINGS, **extras(embed, view))

        live = await self._live(doc_set, lambda text: reply(text, None, None), reply)
        async with contextlib.nullcontext() if live else channel.typing():
            asked = await self._answer(question, history, doc_set, channel.id, message.author.id, live)
        result = asked.answer
        first = await self._deliver(asked, live.first_part if live else reply, follow)
        if conversation:
            self.conversations.add(channel.id, Turn(question, result.text))
        elif isinstance(channel, discord.TextChannel):
            await self._open_thread(first, question, result)

    # -- shared steps ------------------------------------------------------------------------
    def _refusal(self, user_id: int) -> str | None:
        wait = self.limiter.hit(user_id)
        if wait:
            limit = self.settings.discord_rate_limit
            return (
                f"You're asking faster than I can keep up ({limit} question{'s' if limit != 1 else ''} a minute). "
                f"Please try again in {max(1, round(wait))} s."
            )
        return None

    async def _live(self, doc_set: DocSet, open_reply: Opener, fallback: Sender) -> LiveReply | None:
        """A reply that grows as the model's answer is verified; None without a model (the extractive answer
        comes in one message, with no edit)."""
        if self.sets.services_for(doc_set).llm is None:
            return None
        live = LiveReply(open_reply, fallback)
        await live.start()
        return live

    async def _answer(
        self,
        question: str,
        history: Sequence[Turn],
        doc_set: DocSet,
        channel_id: int | None,
        user_id: int,
        live: LiveReply | None = None,
    ) -> Asked:
        """Retrieval, answering and logging run in a worker thread: the event loop keeps serving Discord.

        With ``live``, each verified sentence is shown as the model writes (and a failure leaves the reply to
        the final delivery: ``ask_and_log`` falls back to the extractive answer itself)."""
        services = self.sets.services_for(doc_set)
        async with self._slots:
            return await asyncio.to_thread(
                ask_and_log,
                services,
                question,
                tuple(history),
                origin="discord",
                channel=channel_id,
                user_id=user_id,
                on_sentence=live.feed if live is not None else None,
            )

    async def _deliver(self, asked: Asked, first: Sender, rest: Sender) -> discord.Message:
        """Send the answer split to Discord's limits; sources embed and vote buttons on the last part.

        The logged question learns which message carries its answer: that is what votes name.
        """
        result = asked.answer
        parts = answer_messages(result) or ["(empty answer)"]
        embed = sources_embed(result)
        sent: list[discord.Message] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            send = first if i == 0 else rest
            sent.append(await send(part, embed if last else None, vote_view() if last else None))
        self.answers.remember(sent[-1].id, AnswerRecord.from_answer(result))
        questions = self.services.questions
        if questions is not None and asked.question_id is not None:
            await asyncio.to_thread(questions.attach_message, asked.question_id, sent[-1].id)
        return sent[0]

    async def _open_thread(self, message: discord.Message, question: str, result: Answer) -> None:
        """Open a thread on the answer for follow-ups (setting); none on a not-found reply; permissions only log."""
        if not self.settings.discord_threads or result.abstained:
            return
        name = " ".join(question.split())
        name = name if len(name) <= THREAD_NAME else name[: THREAD_NAME - 1] + "…"
        try:
            thread = await message.create_thread(name=name, auto_archive_duration=1440)
        except (discord.HTTPException, ValueError) as exc:
            log.warning("could not open a thread on answer %s: %s", message.id, exc)
            return
        self.conversations.add(thread.id, Turn(question, result.text))

    async def _recover_thread(self, thread: discord.Thread, current: discord.Message) -> None:
        """Rebuild one of our threads' conversation from Discord (after a restart the memory is empty)."""
        me = self.bot.user
        if me is None:
            return
        try:
            parent = thread.parent
            starter = thread.starter_message or (
                await parent.fetch_message(thread.id) if isinstance(parent, discord.TextChannel) else None
            )
            recent = [m async for m in thread.history(limit=100, before=current)]
        except discord.HTTPException as exc:
            log.warning("could not read the history of thread %s: %s", thread.id, exc)
            return
        first = Turn(thread.name, starter.content) if starter is not None else None
        for turn in turns_from_messages(first, recent, me.id)[-HISTORY_TURNS:]:
            self.conversations.add(thread.id, turn)

    async def _reply_safely(self, message: discord.Message, text: str) -> None:
        try:
            await message.channel.send(text, reference=_ref(message), allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("could not reply to message %s", message.id, exc_info=True)


def turns_from_messages(first: Turn | None, messages: Sequence[discord.Message], bot_id: int) -> list[Turn]:
    """Pair people's messages with the bot's replies to them, in order (any fetch order is fine).

    The bot's reply carries a reference to its question; without one (a lost reference) it answers
    the oldest unanswered question, and with none left it is the next part of a split answer.
    Refusals and apologies are replies too, and harmless as history.
    """
    turns = [first] if first else []
    questions: dict[int, str] = {}
    for m in sorted(messages, key=lambda m: m.id):  # snowflakes are chronological
        if m.author.id == bot_id:
            ref = m.reference.message_id if m.reference else None
            if ref is None and questions:
                ref = next(iter(questions))
            if ref in questions:
                turns.append(Turn(questions.pop(ref), m.content))  # type: ignore[arg-type]
            elif turns:
                turns[-1] = Turn(turns[-1].question, f"{turns[-1].answer}\n\n{m.content}")
        elif not m.author.bot:
            questions[m.id] = strip_mentions(m.content, bot_id)
    return turns


def _ref(message: discord.Message) -> discord.MessageReference:
    """A reply reference that still sends when the question was deleted meanwhile."""
    return message.to_reference(fail_if_not_exists=False)
