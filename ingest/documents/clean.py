"""Strip web-page clutter from document text, line by line.

Saved web pages carry the page around the article: ad-blocker and cookie notices, share and
follow buttons, breadcrumb trails, bylines glued to share links, comment stubs, copyright
footers. These rules are general patterns of such clutter (not strings of one page):

* a *notice block* near the top (ad-blocker, cookie or consent notice) is dropped from its
  first to its last line, together with the greeting before it and the "continue" button after;
* a *comment section* near the end (from "Leave a comment", "Tell us what you think", "12 comments")
  is dropped to the end;
* single *clutter lines* anywhere (share/follow lines, breadcrumbs, "Posted:" stubs, copyright and
  "all rights reserved" footers, newsletter prompts, "Advertisement") are dropped; share-button
  phrases glued to a real line are cut out of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from ingest.documents.document import Block

_FLAGS = re.IGNORECASE

# Lines that announce an interstitial notice.
_NOTICE_ANCHOR = re.compile(
    r"ad[\s-]?block|ads?\s+blocker|white[\s-]?list|disable\s+(your\s+)?ad|"
    r"(we|this site)\s+uses?\s+cookies|accept\s+(all\s+)?cookies|cookie\s+(policy|settings|preferences|consent)|"
    r"consent\s+to\s+(the\s+use|our\s+use)|enable\s+javascript|turn\s+off\s+your\s+ad",
    _FLAGS,
)
# Lines that may belong to a notice without naming it (greeting, pitch for ads, support us).
_NOTICE_SOFT = re.compile(
    r"^(dear|hi|hello)\b.{0,30}[,!:]?$|\bour ads\b|\badvertis|\bfree of charge\b|\bsupport (us|our)\b|"
    r"\bvisitor\b|\bbrowser\b|\bthis site\b|\bprivacy\b|\bconsent\b",
    _FLAGS,
)
_NOTICE_CLOSE = re.compile(
    r"^(continue|close|dismiss|accept|i accept|got it|ok(ay)?|no,? thanks|agree|i agree|allow|reject)\b.{0,40}$",
    _FLAGS,
)

_SHARE_TARGETS = (
    r"(facebook|twitter|x|linkedin|pinterest|reddit|whatsapp|telegram|google\s*\+|google\s+plus|instagram|"
    r"youtube|email|e-mail|flipboard|tumblr)"
)
_SHARE_PHRASE = re.compile(
    r"\b(share|tweet|pin|post|email|e-mail|like|follow|link|send)\s*(this|us|it)?\s*(on|to|via)?\s*"
    + _SHARE_TARGETS
    + r"\b"
    r"|\b(tweet|like|share|link)\s+this\w*(\s+on\s+\w+(\s+plus)?)?",
    _FLAGS,
)
_SHARE_ONLY = re.compile(
    r"^([\s|•·/,-]*(share|tweet|print|email|e-mail|save|pin( it)?|reddit|facebook|twitter|linkedin|whatsapp|"
    r"copy link|share this( article| story| post)?|share on \w+)[\s|•·/,:!-]*)+$",
    _FLAGS,
)
_BREADCRUMB = re.compile(r"^(you are here\s*:|home\s*[/>»›|]\s*\S)", _FLAGS)
_BREADCRUMB_SHAPE = re.compile(r"^[^.!?]{0,120}$")
_COMMENT_SECTION = re.compile(
    r"^(tell us what you think|leave a (comment|reply)|post a comment|add (a |your )?comment|"
    r"join the (conversation|discussion)|have your say|what do you think\??|\d+\s+comments?|comments?(\s*\(\d+\))?|"
    r"show comments|view comments|reader comments|responses?)\s*[:.!]?$",
    _FLAGS,
)
_CLUTTER_LINE = re.compile(
    r"^posted\s*(on|by|in|at)?\s*[:\-]?\s*\S.{0,80}$"
    r"|^(updated|published|last updated)\s*[:\-]\s*\S.{0,60}$"
    r"|(©|\(c\)|copyright\s*(©|\(c\))?)\s*\d{4}"
    r"|\ball rights reserved\b"
    r"|^(subscribe|sign up|signup)\b.{0,60}(newsletter|updates|inbox)"
    r"|^(advertisement|sponsored( content)?|ad|ads by \w+|story continues below( advertisement)?)$"
    r"|^(read more|related( articles| stories| posts| coverage)?|more from .{1,40}|recommended( for you)?|"
    r"trending( now)?|most (popular|read)|see also)\s*:?$"
    r"|^click here\b"
    r"|^(skip to (main )?content|jump to navigation|toggle navigation|menu|search|log ?in|sign in|register)$"
    r"|^(like|follow) us on \w+"
    r"|^(image|photo|picture)( credit)?\s*:\s*.{0,80}$",
    _FLAGS,
)
_BYLINE = re.compile(r"^[Bb]y\s+[A-Z][\w.'’-]+(\s+[A-Z][\w.'’-]+){0,3}(\s*[/|,–-]\s*.{0,60})?$")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

_PROSE = frozenset({"paragraph", "list_item", "quote"})
_TOP_WINDOW = 30  # non-empty lines from the top where a notice block may start
_TAIL_SHARE = 0.35  # last share of non-empty lines where a comment section may start
_MAX_NOTICE_SHARE = 0.4  # never drop more than this share of the text as a notice


def clean_text(text: str) -> str:
    """Return ``text`` without page clutter, whitespace normalised, paragraphs kept (linear in its length)."""
    text = normalize(text).replace("\t", " ")
    lines = [re.sub(r"[ \u00a0]+", " ", line).strip() for line in text.split("\n")]
    notice = _notice_lines(lines)
    lines = [line for i, line in enumerate(lines[: _comment_section_start(lines)]) if i not in notice]
    kept: list[str] = []
    last_text = ""  # the last non-blank line kept
    for index, line in enumerate(lines):
        if not line:
            kept.append("")
            continue
        line = _cut_share_phrases(line)
        if not line or is_clutter_line(line) or (index < 15 and _BYLINE.match(line)):
            continue
        if last_text == line and len(line.split()) <= 25:  # a repeated headline
            continue
        kept.append(line)
        last_text = line
    out = "\n".join(kept)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def clean_blocks(blocks: Sequence[Block]) -> list[Block]:
    """The same rules over a structured document's prose blocks (code, tables and headings are never touched)."""
    prose = [b.kind in _PROSE for b in blocks]
    texts = [b.text if is_prose else "" for b, is_prose in zip(blocks, prose)]
    notice = _notice_lines(texts)
    end = _comment_section_start(texts)
    out: list[Block] = []
    last_text = ""
    for i, block in enumerate(blocks[:end]):
        if i in notice:
            continue
        if prose[i]:
            text = _cut_share_phrases(block.text)
            if not text or is_clutter_line(text) or (i < 15 and _BYLINE.match(text)):
                continue
            if text == last_text and len(text.split()) <= 25:
                continue
            last_text = text
            if text != block.text:
                block = replace(block, text=text)
        out.append(block)
    return out


_TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROLS = dict.fromkeys(i for i in [*range(32), *range(127, 160)] if chr(i) not in "\n\t")


_BRACKETED_NUMBERS = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")


def defuse_citation_markers(text: str) -> str:
    """A document's own bracketed numbers ("Lamm et al. [17]") read "(17)": answers number their citations
    ``[n]``, and a quote must not be able to pass for one (or point a reader at the wrong source)."""
    return _BRACKETED_NUMBERS.sub(r"(\1)", text)


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (line breaks and tabs kept)."""
    return _TERMINAL_ESCAPES.sub("", text).translate(_CONTROLS)


def normalize(text: str) -> str:
    """NFC, no zero-width characters, Unix line ends."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_clutter_line(line: str) -> bool:
    """True for a line that is page furniture rather than content."""
    stripped = line.strip()
    if not stripped:
        return False
    if _SHARE_ONLY.match(stripped) or (_CLUTTER_LINE.search(stripped) and len(stripped.split()) <= 40):
        return True
    if _BREADCRUMB.match(stripped) and _BREADCRUMB_SHAPE.match(stripped):
        return True
    return bool(_NOTICE_ANCHOR.search(stripped)) and len(stripped.split()) <= 40


def _cut_share_phrases(line: str) -> str:
    """Remove share-button phrases glued into a line; drop the line if little else is left."""
    found = list(_SHARE_PHRASE.finditer(line))
    if not found:
        return line
    rest = _SHARE_PHRASE.sub(" ", line)
    rest = re.sub(r"\s+", " ", rest).strip(" |•·-–/")
    words = rest.split()
    # One mention inside a long sentence is content ("users can share it on Facebook").
    if len(found) == 1 and len(words) >= 8 and not _BYLINE.match(rest):
        return line
    if len(words) < 5 or _BYLINE.match(rest):
        return ""
    return rest


def _notice_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of the lines of an interstitial notice near the top (ad-blocker, cookies), if there is one."""
    nonempty = [i for i, line in enumerate(lines) if line][:_TOP_WINDOW]
    anchors = [i for i in nonempty if _NOTICE_ANCHOR.search(lines[i])]
    if not anchors:
        return set()
    start, end = anchors[0], anchors[-1]
    # Extend back over the greeting/pitch lines that open the notice.
    prev = [i for i in nonempty if i < start]
    while prev and _NOTICE_SOFT.search(lines[prev[-1]]):
        start = prev.pop()
    # Extend forward over soft lines and the closing button.
    after = [i for i in nonempty if i > end]
    while after and (_NOTICE_SOFT.search(lines[after[0]]) and len(lines[after[0]].split()) <= 40):
        end = after.pop(0)
    if after and _NOTICE_CLOSE.match(lines[after[0]]):
        end = after[0]
    total = sum(len(line) for line in lines) or 1
    removed = sum(len(line) for line in lines[start : end + 1])
    if removed / total > _MAX_NOTICE_SHARE:  # too much to be a notice: only the lines that name one
        return {i for i, line in enumerate(lines) if _NOTICE_ANCHOR.search(line) and len(line.split()) <= 40}
    return set(range(start, end + 1))


def _comment_section_start(lines: Sequence[str]) -> int:
    """Index where a comment section near the end begins, or ``len(lines)`` when there is none."""
    nonempty = [i for i, line in enumerate(lines) if line]
    if len(nonempty) < 4:
        return len(lines)
    first_tail = nonempty[int(len(nonempty) * (1 - _TAIL_SHARE))]
    for i in nonempty:
        if i >= first_tail and _COMMENT_SECTION.match(lines[i]):
            return i
    return len(lines)
