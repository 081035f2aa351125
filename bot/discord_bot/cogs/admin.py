"""Keeping the index current: /reingest (admins), and optionally following the docs folder.

Both run the incremental ingest in a worker thread, one at a time; following the folder uses the
same watcher and filter as `citebot ingest --watch` (ingest/watch.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot.channels import ChannelSets, DocSet
from bot.discord_bot.policy import is_admin
from bot.discord_bot.replies import NO_PINGS, respond
from bot.errors import USER_ERRORS
from bot.schema import IngestReport
from bot.services import Services
from bot.source_catalog import watched_folders
from ingest.watch import WAIT_FOR_OTHER_INGEST_S, watch_changes

log = logging.getLogger(__name__)


def report_text(report: IngestReport) -> str:
    """The counts of an ingest, as one short message."""
    text = f"Re-ingest done: {report.summary()}."
    failed = [f"- `{item['path'][:150]}`: {item['reason'][:150]}" for item in report.failed[:10]]
    if failed:
        text += "\nFailed:\n" + "\n".join(failed)
        if len(report.failed) > 10:
            text += f"\n…and {len(report.failed) - 10} more"
    return text


class AdminCog(commands.Cog, name="Admin"):
    """Commands for server managers (Manage Server, or a role in CITEBOT_DISCORD_ADMIN_ROLES)."""

    def __init__(self, services: Services, *, sets: ChannelSets | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.sets = sets or ChannelSets(services)
        self._running = threading.Lock()  # one ingest at a time: /reingest and the watcher share it
        self._stop = threading.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        if self.settings.discord_watch_docs:
            self._watcher = asyncio.create_task(asyncio.to_thread(self._watch), name="citebot-watch-docs")

    async def cog_unload(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            await asyncio.wait([self._watcher], timeout=5)

    @property
    def watching(self) -> bool:
        """True while the docs folder is being followed."""
        return self._watcher is not None and not self._watcher.done()

    def _watch(self) -> None:
        """Re-ingest the index's sources after each burst of changes in their folders (the docs folder for
        an index with none yet; CITEBOT_DISCORD_WATCH_DOCS); a worker thread."""
        try:
            sources = self.services.catalog.sources()
            folders = watched_folders(sources) if sources else [self.settings.docs_dir]
        except USER_ERRORS as exc:
            log.warning("not watching: %s", exc)
            return
        for folder in [f for f in folders if not f.is_dir()]:
            log.warning("not watching %s: it is not a folder", folder)
        folders = [f for f in folders if f.is_dir()]
        if not folders:
            return
        log.info("watching %s for changes", ", ".join(str(f) for f in folders))
        watch_changes(
            folders,
            lambda: self._ingest(wait=WAIT_FOR_OTHER_INGEST_S),
            lambda _report: None,
            stop=self._stop,
            catch_up=False,
            user_errors=USER_ERRORS,
        )

    def _ingest(self, wait: float, doc_set: DocSet | None = None) -> IngestReport:
        services = self.services if doc_set is None else self.sets.services_for(doc_set)
        with self._running:
            return services.ingest(wait=wait, on_wait=log.info)

    @app_commands.command(name="reingest", description="Bring this channel's documents up to date in the index.")
    @app_commands.guild_only()
    async def reingest(self, interaction: discord.Interaction) -> None:
        member = interaction.user
        if not isinstance(member, discord.Member) or not is_admin(
            self.settings, member.guild_permissions.manage_guild, (r.id for r in member.roles)
        ):
            await respond(interaction, "Only members with Manage Server or an admin role can run /reingest.")
            return
        try:
            doc_set = self.sets.set_for(interaction.channel)
        except USER_ERRORS as exc:
            await respond(interaction, f"Re-ingest failed: {exc}")
            return
        if doc_set is None:
            await respond(interaction, "This channel is left out of the channel map: it has no documents to re-ingest.")
            return
        if self._running.locked():
            await respond(interaction, "A re-ingest is already running; try again when it has finished.")
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        log.info("re-ingest of set %s (%s) requested by user %s", doc_set.name, doc_set.docs_dir, member.id)
        try:  # another process's ingest of the index: say so rather than make the admin wait
            report = await asyncio.to_thread(self._ingest, 0.0, doc_set)
        except USER_ERRORS as exc:
            log.warning("re-ingest failed: %s", exc)
            await interaction.followup.send(f"Re-ingest failed: {exc}", ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.followup.send(report_text(report), ephemeral=True, allowed_mentions=NO_PINGS)
