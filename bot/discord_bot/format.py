"""Discord presentation of an Answer: message splitting, non-unfurling links, the sources embed.

Pure functions (discord.py is imported only for the Embed type), so every limit is unit-tested.
Discord's limits: 2,000 characters per message; embeds: title 256, description 4,096,
25 fields of name 256 / value 1,024, 6,000 characters in all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.schema import Answer
from bot.text import CITATION_RUN
from ingest.documents.sentences import SENTENCE_STOP

if TYPE_CHECKING:
    import discord

MESSAGE_LIMIT = 2000
EMBED_TOTAL = 6000
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
EMBED_TITLE = 256
#: A quote under a model-written answer's source is a reminder, not the passage.
QUOTE_CHARS = 300

# A sentence ends at . ! ? (optionally closed by quotes/brackets), followed by any citation
# markers ("[1]", "[2][3]"): the markers stay with their sentence.
_SENTENCE_END = re.compile(rf"{SENTENCE_STOP}(?:{CITATION_RUN.pattern})?(?=\s)")
_URL = re.compile(r"(?<![<(])\bhttps?://[^\s<>]+[^\s<>.,;:!?\"'”’)\]]")


def no_unfurl(text: str) -> str:
    """Wrap bare links in ``<...>`` so that Discord shows them without a preview."""
    return _URL.sub(lambda m: f"<{m.group(0)}>", text)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters.

    Paragraph boundaries first, then sentence boundaries (a sentence keeps its ``[n]`` markers),
    then spaces; a single word longer than ``limit`` (a huge URL) is the only thing ever cut.
    """
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    current = ""
    for unit, sep in _units(text, limit):
        candidate = f"{current}{sep}{unit}" if current else unit
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, limit: int) -> list[tuple[str, str]]:
    """(unit, separator before it) pairs, each unit at most ``limit`` characters."""
    out: list[tuple[str, str]] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        first_sep = "\n\n"
        for i, sentence in enumerate(_fit(para, limit, _sentences)):
            for j, words in enumerate(_fit(sentence, limit, _words)):
                sep = first_sep if i == 0 and j == 0 else " "
                for k, chunk in enumerate(_hard_cut(words, limit)):
                    out.append((chunk, sep if k == 0 else ""))
    return out


def _fit(text: str, limit: int, splitter: Callable[[str, int], list[str]]) -> list[str]:
    """``text`` itself when it fits, else its parts by ``splitter``."""
    if len(text) <= limit:
        return [text]
    return splitter(text, limit)


def _sentences(text: str, limit: int) -> list[str]:
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        parts.append(text[start : m.end()].strip())
        start = m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _words(text: str, limit: int) -> list[str]:
    """Group words into runs of at most ``limit`` characters (a long word stays whole here)."""
    runs: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit or not current:
            current = candidate
        else:
            runs.append(current)
            current = word
    if current:
        runs.append(current)
    return runs


def _hard_cut(text: str, limit: int) -> list[str]:
    return [text[i : i + limit] for i in range(0, len(text), limit)] or [text]


def answer_messages(result: Answer, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The message contents for an answer: optional notice, then the text, split to fit."""
    body = no_unfurl(result.text)
    if result.abstained:  # the first line says it is not an answer
        first, sep, rest = body.partition("\n")
        body = f"*{first}*{sep}{rest}"
    if result.notice:
        body = f"-# note: {result.notice}\n{body}"
    return split_message(body, limit)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _link(url: str) -> str:
    """A URL safe inside a markdown link target."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _escape(text: str) -> str:
    import discord

    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


def sources_embed(result: Answer) -> discord.Embed | None:
    """An embed of the cited sources: ``[n] title``, then ``file § section`` linked where a URL exists.

    Extractive answers are their quotes already, so only a model-written answer's sources carry a
    short quote (the sentence of the passage that supports it). An abstention has no embed: a
    "not found" reply stays short, and a "closest" reply lists its passages in its own text.
    Returns None when there is nothing to show.
    """
    import discord

    if result.abstained or not result.citations:
        return None
    title = "Sources"
    entries: list[tuple[str, str]] = []
    generated = bool(result.claims)
    for c in result.citations[:EMBED_FIELDS]:
        p = c.passage
        label = _clip(f"[{c.id}] {p.label}", FIELD_NAME)
        head = f"[{_escape(_clip(p.where, 200))}]({_link(p.url)})" if p.url else f"`{_clip(p.where, 200)}`"
        flag = " (not supported by the passage)" if not c.supported else ""
        quote = f"\n> {_escape(_clip(c.quote, QUOTE_CHARS))}" if generated and c.quote else ""
        entries.append((label, f"{head}{flag}{quote}"))

    # Share the 6,000-character budget: each field gets what is left, at most 1,024.
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    budget = EMBED_TOTAL - len(title) - 50
    for n, (name, value) in enumerate(entries):
        share = min(FIELD_VALUE, (budget - len(name)) // (len(entries) - n))
        if share < 20:
            break
        value = _clip_lines(value, share)
        embed.add_field(name=name, value=value, inline=False)
        budget -= len(name) + len(value)
    return embed


def _clip_lines(value: str, limit: int) -> str:
    """Clip a field value, keeping its first (link) line whole when possible."""
    if len(value) <= limit:
        return value
    head, _, rest = value.partition("\n")
    if len(head) + 4 < limit:
        return head + "\n" + _clip(rest, limit - len(head) - 1)
    return _clip(value, limit)
