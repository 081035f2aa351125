"""What every part of the bot sends with: no pings, the apology for unexpected errors, a safe interaction reply."""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger(__name__)

#: Sent with every message: answers quote documents, and a document may contain @everyone.
NO_PINGS = discord.AllowedMentions.none()
SOMETHING_WRONG = "Sorry, something went wrong while answering. The error has been logged."


async def respond(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer an interaction whether or not it was already deferred; never raises."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not deliver a message to the user", exc_info=True)


def extras(embed: discord.Embed | None, view: discord.ui.View | None) -> dict[str, Any]:
    """The keyword arguments that add an embed and a view to a message sent or edited (none when absent)."""
    out: dict[str, Any] = {}
    if embed is not None:
        out["embed"] = embed
    if view is not None:
        out["view"] = view
    return out
