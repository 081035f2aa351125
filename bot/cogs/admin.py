"""Keeping the index current: /reingest (admins), and optionally following the docs folder.

Both run the incremental ingest in a worker thread, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app import NO_PINGS, respond
from bot.discord_policy import is_admin
from bot.errors import USER_ERRORS
from bot.schema import IngestReport

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


def report_text(report: IngestReport) -> str:
    """The counts of an ingest, as one short message."""
    text = (
        f"Re-ingest done in {report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.removed} removed, {len(report.failed)} failed; "
        f"{report.chunks} chunks written."
    )
    failed = [f"- `{item['path'][:150]}`: {item['reason'][:150]}" for item in report.failed[:10]]
    if failed:
        text += "\nFailed:\n" + "\n".join(failed)
        if len(report.failed) > 10:
            text += f"\n…and {len(report.failed) - 10} more"
    return text


class AdminCog(commands.Cog, name="Admin"):
    """Commands for server managers (Manage Server, or a role in CITEBOT_DISCORD_ADMIN_ROLES)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self._running = asyncio.Lock()
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        if self.settings.discord_watch_docs:
            self._watcher = asyncio.create_task(self._watch(), name="citebot-watch-docs")

    async def cog_unload(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            await asyncio.wait([self._watcher], timeout=5)

    async def _watch(self) -> None:
        """Re-ingest the docs folder after each burst of changes (CITEBOT_DISCORD_WATCH_DOCS)."""
        from watchfiles import awatch

        folder = self.settings.docs_dir
        if not folder.is_dir():
            log.warning("not watching %s: it is not a folder", folder)
            return
        log.info("watching %s for changes", folder)
        async for changes in awatch(folder, debounce=1500, stop_event=self._stop, recursive=True):
            log.info("%d file change(s) in %s; re-ingesting", len(changes), folder)
            async with self._running:
                try:
                    report = await asyncio.to_thread(self.services.ingest)
                except USER_ERRORS as exc:
                    log.error("re-ingest failed: %s", exc)
                except Exception:
                    log.exception("re-ingest failed")
                else:
                    log.info(report_text(report).splitlines()[0])

    @app_commands.command(name="reingest", description="Bring the index up to date with the documents folder.")
    @app_commands.guild_only()
    async def reingest(self, interaction: discord.Interaction) -> None:
        member = interaction.user
        if not isinstance(member, discord.Member) or not is_admin(
            self.settings, member.guild_permissions.manage_guild, (r.id for r in member.roles)
        ):
            await respond(interaction, "Only members with Manage Server or an admin role can run /reingest.")
            return
        if self._running.locked():
            await respond(interaction, "A re-ingest is already running; try again when it has finished.")
            return
        async with self._running:
            await interaction.response.defer(thinking=True, ephemeral=True)
            log.info("re-ingest of %s requested by user %s", self.settings.docs_dir, member.id)
            report = await asyncio.to_thread(self.services.ingest)
            await interaction.followup.send(report_text(report), ephemeral=True, allowed_mentions=NO_PINGS)
