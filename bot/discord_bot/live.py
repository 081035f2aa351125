"""A Discord reply that grows as a model's answer is verified, one sentence at a time.

The reply appears at once ("Looking…"). Each sentence the verifier lets through is handed over from the
answering thread (``feed``) and shown by editing the reply, at most one edit per ``EDIT_INTERVAL_S``:
sentences that arrive between two edits are shown together, which keeps well inside Discord's rate
limits (and discord.py waits out a 429 itself). Only verified sentences are ever on screen, and never
more of them than fit one message; the rest appears with the final delivery.

``first_part`` is the sender the final delivery uses for its first message: it edits the reply into the
answer, with the sources embed and the vote buttons. An edit Discord rejects stops the live edits, and
the final answer is then sent as a new message rather than lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

import discord

from bot.discord_bot.format import MESSAGE_LIMIT
from bot.discord_bot.replies import NO_PINGS, extras

log = logging.getLogger(__name__)

#: Seconds between two edits of a growing reply, at least.
EDIT_INTERVAL_S = 1.0
LOOKING = "Looking…"

Opener = Callable[[str], Awaitable[discord.Message]]
#: Sends one message of an answer: its text, and on the last one the sources embed and the vote buttons.
Sender = Callable[[str, discord.Embed | None, discord.ui.View | None], Awaitable[discord.Message]]


class LiveReply:
    """One growing reply: ``start`` shows it, ``feed`` (any thread) adds a verified sentence, ``first_part`` ends it."""

    def __init__(
        self, open_reply: Opener, fallback: Sender, *, interval: float = EDIT_INTERVAL_S, limit: int = MESSAGE_LIMIT
    ) -> None:
        self._open = open_reply
        self._fallback = fallback
        self.interval = interval
        self.limit = limit
        self.message: discord.Message | None = None
        self.edits: list[tuple[float, str]] = []  # (monotonic time, content) of each edit: what tests and logs read
        self._pieces: list[str] = []
        self._shown = ""
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broken = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            self.message = await self._open(LOOKING)
        except discord.HTTPException:
            log.warning("could not show the reply before the answer; it will come in one message", exc_info=True)
            self._broken = True
            return
        self._task = asyncio.create_task(self._pump())

    def feed(self, sentence: str) -> None:
        """A verified sentence, from the answering thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._add, sentence)

    def _add(self, sentence: str) -> None:
        self._pieces.append(sentence)
        self._changed.set()

    def text(self) -> str:
        """The verified sentences so far that fit one message (whole sentences only)."""
        out = ""
        for piece in self._pieces:
            if len(out) + len(piece) > self.limit:
                break
            out += piece
        return out.strip()

    async def _pump(self) -> None:
        last = -math.inf
        while True:
            await self._changed.wait()
            wait = last + self.interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # the sentences that come meanwhile go in the same edit
            self._changed.clear()
            text = self.text()
            if not text or text == self._shown or self.message is None:
                continue
            try:
                await self.message.edit(content=text, allowed_mentions=NO_PINGS)
            except discord.HTTPException:
                log.warning("Discord refused an edit of a growing reply; the answer will follow whole", exc_info=True)
                self._broken = True
                return
            last = time.monotonic()
            self._shown = text
            self.edits.append((last, text))

    async def stop(self) -> None:
        """No more live edits (the final delivery follows)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def first_part(
        self, content: str, embed: discord.Embed | None, view: discord.ui.View | None
    ) -> discord.Message:
        """The final answer's first message: the reply edited into it (else sent anew)."""
        await self.stop()
        if self.message is not None and not self._broken:
            if self.edits:  # the final edit keeps the pace too (Discord limits edits per channel)
                await asyncio.sleep(max(0.0, self.edits[-1][0] + self.interval - time.monotonic()))
            try:
                await self.message.edit(content=content, allowed_mentions=NO_PINGS, **extras(embed, view))
                self.edits.append((time.monotonic(), content))
                return self.message
            except discord.HTTPException:
                log.warning("could not edit the reply into the answer; sending it as a new message", exc_info=True)
        return await self._fallback(content, embed, view)
