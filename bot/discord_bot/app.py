"""The Discord bot: its class, start-up, command sync, and the `citebot discord` run function.

Structured after discord.py's ``examples/advanced_startup.py``: the bot receives its services
through its constructor, ``setup_hook`` adds one cog per feature and syncs commands, and
``run_discord`` owns the event loop and turns start-up failures into one-line errors.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot.channels import ChannelSets
from bot.discord_bot.cogs.admin import AdminCog
from bot.discord_bot.cogs.ask import AskCog
from bot.discord_bot.cogs.feedback import FeedbackCog, VoteButton
from bot.discord_bot.cogs.insights import InsightsCog
from bot.discord_bot.replies import NO_PINGS, SOMETHING_WRONG, respond
from bot.errors import USER_ERRORS, ConfigError
from bot.services import Services

log = logging.getLogger(__name__)

COMMANDS_STATE = "discord-commands.json"


def intents() -> discord.Intents:
    """Default intents plus Message Content (privileged): needed to read mentions and thread follow-ups."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    wanted.presences = False
    wanted.members = False
    return wanted


class CitebotBot(commands.Bot):
    """The bot; everything it uses is passed in, nothing is built from globals."""

    def __init__(self, services: Services, *, sync: bool = False) -> None:
        # The bot has no voice features: silence the start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: prefix commands are switched off in on_message
            intents=intents(),
            allowed_mentions=NO_PINGS,
            help_command=None,
        )
        self.services = services
        self.settings = services.settings
        self.sets = ChannelSets(services)
        _ = self.sets.map  # a malformed channel map stops the start-up with its one-line reason
        self.sync_requested = sync
        self._warm: asyncio.Task[None] | None = None
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: questions by mention are handled by the ask cog's listener."""

    async def load_features(self) -> None:
        """Add the cogs and the persistent feedback buttons."""
        feedback_cog = FeedbackCog(self.services.questions)
        await self.add_cog(feedback_cog)
        await self.add_cog(AskCog(self, self.services, answer_log=feedback_cog.answers, sets=self.sets))
        await self.add_cog(AdminCog(self.services, sets=self.sets))
        await self.add_cog(InsightsCog(self.services, self.sets))
        self.add_dynamic_items(VoteButton)

    async def setup_hook(self) -> None:
        await self.load_features()
        await self.sync_commands()
        self._warm = asyncio.create_task(self._warm_up())

    async def sync_commands(self) -> bool:
        """Sync slash commands when asked (--sync) or when the command set changed since the last sync.

        With ``CITEBOT_DISCORD_GUILD_ID`` they go to that guild (instant, for development);
        otherwise globally (Discord may take up to an hour to show changes).
        """
        guild = discord.Object(self.settings.discord_guild_id) if self.settings.discord_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        scope = f"guild:{guild.id}" if guild else "global"
        digest = command_digest(self.tree, guild)
        state_file = self.settings.data_dir / COMMANDS_STATE
        synced = _read_state(state_file)
        if not self.sync_requested and synced.get(scope) == digest:
            log.info("slash commands unchanged since the last sync (%s); not syncing", scope)
            return False
        try:
            done = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:  # e.g. the bot is not in that guild: mentions still work
            log.error("could not sync slash commands to %s: %s", scope, exc)
            return False
        log.info("synced %d slash command(s) to %s", len(done), scope)
        synced[scope] = digest
        _write_state(state_file, synced)
        return True

    async def _warm_up(self) -> None:
        """Load the model and open the index before the first question, off the event loop."""
        try:
            await asyncio.to_thread(self.services.search, "warm up", 1)
            log.info("index and model ready")
        except USER_ERRORS as exc:
            log.warning("not ready to answer yet: %s", exc)
        except Exception:
            log.exception("warm-up failed")

    async def on_ready(self) -> None:
        log.info("logged in as %s (id %s) in %d guild(s)", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """A user-facing error's own message, else a short apology; tracebacks go to the log only."""
        original = getattr(error, "original", error)
        if isinstance(original, USER_ERRORS):
            text = f"I can't answer that: {original}"
        elif isinstance(error, app_commands.CheckFailure):
            text = str(error) or "You can't use this command here."
        else:
            cmd = interaction.command.name if interaction.command else "?"
            log.error("/%s failed", cmd, exc_info=original)
            text = SOMETHING_WRONG
        await respond(interaction, text, ephemeral=True)


def command_digest(tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None) -> str:
    """A hash of the command set as Discord would receive it; a change means a sync is due."""
    payload = sorted((cmd.to_dict(tree) for cmd in tree.get_commands(guild=guild)), key=lambda c: str(c.get("name")))
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _read_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


class RedactSecret(logging.Filter):
    """Replaces a secret in every log record that passes through a handler."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, "[redacted]")
            record.args = None
        return True


def _redact_logs(secret: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING)
    for handler in root.handlers:
        handler.addFilter(RedactSecret(secret))


def run_discord(services: Services, *, sync: bool = False) -> None:
    """Start the bot and block until it stops; start-up failures become one-line CitebotErrors."""
    settings = services.settings
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise ConfigError("CITEBOT_DISCORD_TOKEN is not set; create a bot in the Discord developer portal (see README)")
    token = settings.discord_token.get_secret_value().strip()
    _redact_logs(token)

    async def main() -> None:
        async with CitebotBot(services, sync=sync) as bot:
            await bot.start(token)

    try:
        asyncio.run(main())
    except discord.LoginFailure:
        raise ConfigError(
            "Discord rejected CITEBOT_DISCORD_TOKEN (login failed): check or reset the bot token"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "Discord refused the Message Content intent: enable it for the bot in the developer portal (see README)"
        ) from None
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        raise ConfigError(f"could not reach Discord: {type(exc).__name__}") from None
