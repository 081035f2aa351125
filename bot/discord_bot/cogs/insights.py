"""Admin views of the questions log: `/citebot gaps` (what the docs don't answer) and `/citebot stats`.

Both are for server managers (or CITEBOT_DISCORD_ADMIN_ROLES), cover the last 7 days of the
channel's document set (every set outside the map), and are answered ephemerally as an embed.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot.channels import ChannelSets
from bot.discord_bot.policy import is_admin
from bot.discord_bot.replies import NO_PINGS, respond
from bot.questions.gaps import GapsReport, build_report
from bot.questions.stats import Stats, compute
from bot.services import Services

log = logging.getLogger(__name__)

PERIOD_DAYS = 7
_FIELDS = 10  # topics shown; an embed holds 25 fields of 1,024 characters, 6,000 in all
_FIELD = 1024


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def gaps_embed(report: GapsReport, scope: str) -> discord.Embed:
    """The gaps report in one embed, within Discord's limits."""
    share = f" ({100 * report.unanswered / report.questions:.0f}%)" if report.questions else ""
    embed = discord.Embed(
        title=_cut(f"What the docs don't answer: last {PERIOD_DAYS} days, {scope}", 256),
        description=f"{report.questions} question(s), {report.unanswered} not answered{share}: "
        f"{report.abstained} abstained, {report.downvoted} 👎.",
    )
    if not report.gaps:
        embed.description = (embed.description or "") + "\nNo unanswered questions in this period."
    for topic in report.gaps[:_FIELDS]:
        lines = [f"e.g. {e}" for e in topic.examples]
        docs = ", ".join(f"`{d.source}`" + (f" § {d.section}" if d.section else "") for d in topic.documents)
        lines.append(f"closest: {docs or '-'}")
        embed.add_field(
            name=_cut(f"{topic.count} × {topic.name}", 256), value=_cut("\n".join(lines), _FIELD), inline=False
        )
    if report.cited:
        cited = "\n".join(f"{n} × `{s}`" for s, n in report.cited[:5])
        embed.add_field(name="Cited most", value=_cut(cited, _FIELD), inline=False)
    return embed


def stats_embed(stats: Stats, scope: str) -> discord.Embed:
    """Questions, abstention rate, votes and latency in one embed."""
    embed = discord.Embed(title=_cut(f"citebot: last {PERIOD_DAYS} days, {scope}", 256))
    embed.add_field(name="Questions", value=str(stats.questions))
    embed.add_field(name="Abstained", value=f"{stats.abstained} ({100 * stats.abstention_rate:.0f}%)")
    embed.add_field(name="Votes", value=f"{stats.up} 👍 / {stats.down} 👎")
    latency = f"{stats.p95_ms:.0f} ms" if stats.p95_ms is not None else "-"
    embed.add_field(name="p95 latency", value=latency)
    return embed


class InsightsCog(commands.GroupCog, group_name="citebot", group_description="citebot's reports for admins."):
    """`/citebot gaps` and `/citebot stats`."""

    def __init__(self, services: Services, sets: ChannelSets) -> None:
        self.services = services
        self.settings = services.settings
        self.sets = sets
        super().__init__()

    async def _allowed(self, interaction: discord.Interaction) -> bool:
        member = interaction.user
        if isinstance(member, discord.Member) and is_admin(
            self.settings, member.guild_permissions.manage_guild, (r.id for r in member.roles)
        ):
            return True
        await respond(interaction, "Only members with Manage Server or an admin role can see citebot's reports.")
        return False

    def _scope(self, interaction: discord.Interaction) -> tuple[str | None, str]:
        """The collection to report on (None: all) and how to name it."""
        doc_set = self.sets.set_for(interaction.channel)
        return (doc_set.collection, f"set {doc_set.name}") if doc_set is not None else (None, "all sets")

    @app_commands.command(name="gaps", description="What the documents didn't answer in the last 7 days.")
    @app_commands.guild_only()
    async def gaps(self, interaction: discord.Interaction) -> None:
        if not await self._allowed(interaction):
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        collection, scope = self._scope(interaction)
        report = await asyncio.to_thread(self._gaps, collection)
        await interaction.followup.send(embed=gaps_embed(report, scope), ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="stats", description="Questions, abstention rate, votes and latency, last 7 days.")
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        if not await self._allowed(interaction):
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        collection, scope = self._scope(interaction)
        stats = await asyncio.to_thread(self._stats, collection)
        await interaction.followup.send(embed=stats_embed(stats, scope), ephemeral=True, allowed_mentions=NO_PINGS)

    def _since(self) -> float:
        return time.time() - PERIOD_DAYS * 86_400

    def _gaps(self, collection: str | None) -> GapsReport:
        """A worker thread: embedding the questions runs the model."""
        since = self._since()
        questions = self.services.questions
        asked = questions.questions(since=since, collection=collection) if questions is not None else []
        embed, rarity = self.services.query_embedder.embed, self.services.rarity_if_indexed()
        return build_report(asked, embed, since=since, rarity=rarity)

    def _stats(self, collection: str | None) -> Stats:
        questions = self.services.questions
        return compute(questions.questions(since=self._since(), collection=collection) if questions else [])
