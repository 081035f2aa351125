"""Who and where the Discord bot answers: the channel allow-list, DMs, admins. Pure checks."""

from __future__ import annotations

from collections.abc import Iterable

from bot.discord_bot.channels import from_entries
from bot.settings import Settings


def channel_allowed(settings: Settings, channel_id: int | None, parent_id: int | None, in_guild: bool) -> bool:
    """True when the bot may answer here (the channel map written in CITEBOT_DISCORD_CHANNELS).

    A thread counts as its parent channel; DMs need ``CITEBOT_DISCORD_ALLOW_DMS``;
    an empty ``CITEBOT_DISCORD_CHANNELS`` allows every guild channel.
    """
    if not in_guild:
        return settings.discord_allow_dms
    return from_entries(list(settings.discord_channels), settings).set_for(channel_id, parent_id) is not None


def is_admin(settings: Settings, manage_guild: bool, role_ids: Iterable[int]) -> bool:
    """Manage Server permission, or one of the roles in ``CITEBOT_DISCORD_ADMIN_ROLES``."""
    return manage_guild or bool(set(role_ids) & set(settings.discord_admin_roles))
