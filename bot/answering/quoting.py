"""How chosen sentences are shown: quoted in their context, in the document's order, with their markers.

A quote must read well on its own: a sentence that opens with "However," or "This" comes with the
sentence it answers; a short sentence right after it ("But it is now deprecated.") comes along; a
list item is shown as a list only under the sentence that introduces it, and is otherwise plain
prose; a sentence ending with ":" brings the list or code it introduces. Sentences of one passage
keep the document's order, so an answer reads as the page does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.evidence import Evidence, ScoredSentence
from bot.answering.focus import is_release_notes
from bot.answering.setting_names import is_key_value, with_option, with_release
from bot.schema import Citation
from bot.text import Sentence, split_sentences, words
from ingest.documents.document import Part, passage_parts

#: A sentence this short right after a quoted one comes with it.
SHORT_FOLLOW_UP = 8
#: A line this short after a quote ending in ":" is what it introduces ("graphchecker file").
SHORT_LINE = 160
MAX_CODE_LINES = 30
#: A sentence opening with one of these leans on the one before it ("However, ...", "This means ...").
_LEANS_BACK = re.compile(
    r"^(however|but|also|so|thus|therefore|hence|instead|otherwise|moreover|furthermore|additionally|"
    r"in addition|in this case|in that case|as a result|that said|then|still|yet|nevertheless|nonetheless|"
    r"alternatively|similarly|likewise|for this reason|because of this|that is why|that's why|"
    r"this|these|such|doing so|it|its|they|their|them)\b"
    # a condition on what the sentence before named: "You may see hydration errors if they get removed."
    r"|^[^.;:]{0,80}\b(if|when|unless|because|once|until) (it|they|this|these)\b"
    # what the sentence before named, early in this one: "Examples of such files include ...", "Each of these ..."
    r"|^(?:[\w'-]+,?\s+){1,3}(such|these|those|the above|the former|the latter)\b",
    re.IGNORECASE,
)
#: The sentence before is brought along only when it is this short.
_ANTECEDENT_CHARS = 300


@dataclass(frozen=True)
class Composed:
    """An answer text with its citations, before timings and notices are added."""

    text: str
    abstained: bool
    citations: list[Citation]


def render(evidence: Evidence, chosen: list[ScoredSentence], max_chars: int, *, decisive_first: bool) -> Composed:
    """Sentences with their markers, each read in its context (``in_context``), passage by passage.

    ``decisive_first``: the decisive sentence's passage comes first; otherwise passages come in the
    order their sentences were chosen. Within a passage, sentences keep the document's order.
    """
    order = list(dict.fromkeys(c.passage_rank for c in chosen))
    if not decisive_first:
        order = sorted(order, key=lambda rank: min(c.sentence.start for c in chosen if c.passage_rank == rank))
    numbers = {rank: i for i, rank in enumerate(order, 1)}
    ordered = sorted(chosen, key=lambda c: (order.index(c.passage_rank), c.sentence.start))
    # what need not come along as context: the chosen sentences, and those a piece already shows
    shown_texts = {c.sentence.text for c in chosen}
    pieces: list[str] = []
    quotes: dict[int, list[str]] = {}
    open_list = ""  # the lead-in of the list the last piece belongs to
    released: set[int] = set()  # passages whose release a quote has named already
    named_by: set[int] = set()  # passages whose option or setting a quote has named already
    for c in ordered:
        if any(c.sentence.text in piece for piece in pieces):
            continue  # it came along with the sentence before it
        marker = f"[{numbers[c.passage_rank]}]"
        passage = evidence.passages[c.passage_rank]
        text = in_context(passage.text, c.sentence, skip=shown_texts)
        lead = list_lead(passage.text, c.sentence) if c.item else ""
        if lead and lead == open_list:
            piece = f"- {text} {marker}"
        elif lead:
            piece = f"{lead} {marker}\n- {text}"
        elif (
            is_release_notes(passage)
            and c.passage_rank not in released
            and (named := with_release(text, passage.section)) != text
        ):
            piece = f"{named} {marker}"  # named by its release, once for the sentences of one release's section
            released.add(c.passage_rank)
        elif c.passage_rank not in named_by and (named := with_option(text, passage.section, notes=False)) != text:
            piece = f"{named} {marker}"  # named by its option or setting, once for the sentences of its section
            named_by.add(c.passage_rank)
        else:
            piece = f"{text} {marker}"
        follow = introduced_block(passage.text, c.sentence, text)
        if follow:
            piece += f"\n\n{follow}"
        candidate = join([*pieces, piece])
        if pieces and len(candidate) > max_chars:
            break
        pieces.append(piece)
        shown_texts.update(s.text for s in split_sentences(text))
        quotes.setdefault(c.passage_rank, []).append(text if not lead or lead == open_list else f"{lead} {text}")
        open_list = lead
    citations = [
        Citation(id=numbers[rank], passage=evidence.passages[rank], quote=" … ".join(quotes[rank]))
        for rank in order
        if rank in quotes
    ]
    return Composed(fit(join(pieces), max_chars), False, citations)


def in_context(text: str, sentence: Sentence, skip: set[str] | frozenset[str] = frozenset()) -> str:
    """The sentence as a reader needs it.

    * after the sentence before it, when it leans on that one ("However, ...", "Examples of such files
      ...") and that one is not quoted anyway (``skip``);
    * with the sentence after it (in its paragraph, or opening the next one) when that one leans on it
      ("... Therefore, you'll have to move these comments", "You can place these files in ...");
    * with the next one when that one is short (it often settles the point: "There used to be an
      official Docker image." is answered by "But it is now deprecated.");
    * after a sentence too short to stand alone, with the first sentence of the next paragraph.
    """
    shown = sentence.text
    before = _sentence_before(text, sentence)
    if before is not None and before.text not in skip and _LEANS_BACK.match(shown):
        shown = f"{before.text} {shown}"
    end = text.find("\n", sentence.end)
    rest = text[sentence.end : end if end >= 0 else len(text)]
    following = split_sentences(rest)
    onward = following[0] if following else _first_of_next_paragraph(text, sentence)
    if onward is None:
        return shown
    if onward.text not in skip and len(onward.text) <= _ANTECEDENT_CHARS and _LEANS_BACK.match(onward.text):
        return f"{shown} {onward.text}"  # it goes on about this one ("Therefore, ...", "You can place these files ...")
    if following and len(words(onward.text)) <= SHORT_FOLLOW_UP and onward.text[:1].isupper():
        return f"{shown} {onward.text}"
    if (
        not following
        and len(words(sentence.text)) <= SHORT_FOLLOW_UP
        and not is_key_value(sentence.text)
        and not sentence.text.rstrip().endswith(":")
    ):
        return f"{shown} {onward.text}"
    return shown


def _first_of_next_paragraph(text: str, sentence: Sentence) -> Sentence | None:
    """The first sentence of the paragraph after ``sentence``'s, when that paragraph is prose."""
    after = [p for p in passage_parts(text) if p.start >= sentence.end]
    if after and after[0].kind == "prose":
        first = split_sentences(after[0].text)
        return first[0] if first else None
    return None


def _sentence_before(text: str, sentence: Sentence) -> Sentence | None:
    """The sentence just before ``sentence`` in its paragraph (its line), if short enough to bring along."""
    start = text.rfind("\n", 0, sentence.start) + 1
    if text.startswith(("- ", "* "), start):
        start += 2  # a list item's line: its bullet is no part of its first sentence
    earlier = split_sentences(text[start : sentence.start])
    if not earlier or len(earlier[-1].text) > _ANTECEDENT_CHARS:
        return None
    return earlier[-1]


def list_lead(text: str, sentence: Sentence) -> str:
    """The sentence that introduces the list an item belongs to (the prose just before the list, ending with ":")."""
    before = [p for p in passage_parts(text) if p.end <= sentence.start]
    while before and before[-1].kind == "item":
        before.pop()
    if before and before[-1].kind == "prose":
        last = split_sentences(before[-1].text)
        if last and last[-1].text.rstrip().endswith(":"):
            return last[-1].text
    return ""


def introduced_block(text: str, sentence: Sentence, shown: str) -> str:
    """What a quote ending in ":" introduces (when it ends its paragraph): code, a list, or a short line."""
    if not shown.rstrip().endswith(":"):
        return ""
    parts = passage_parts(text)
    for i, part in enumerate(parts):
        if part.start <= sentence.start < part.end:
            if not text[part.start : part.end].rstrip().endswith(shown.rstrip()[-40:]):
                return ""  # more prose follows in the same paragraph: the colon is not a lead-in
            following: list[Part] = []
            for nxt in parts[i + 1 :]:
                if (following and following[-1].kind != nxt.kind) or (nxt.kind == "prose" and following):
                    break
                following.append(nxt)
                if nxt.kind != "item":
                    break
            if not following:
                return ""
            if following[0].kind == "code":
                return fenced(following[0], 1200)
            if following[0].kind == "prose":
                return following[0].text if len(following[0].text) <= SHORT_LINE else ""
            return "\n".join(f"- {p.text}" for p in following[:6])
    return ""


def fenced(part: Part, max_chars: int) -> str:
    """A code part fenced again, cut to a readable length (whole lines) with a note when cut."""
    lines = part.text.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines[:MAX_CODE_LINES]:
        if size + len(line) + 1 > max_chars and kept:
            break
        kept.append(line)
        size += len(line) + 1
    more = "\n# …" if len(kept) < len(lines) else ""
    return f"```{part.language}\n" + "\n".join(kept) + f"{more}\n```"


def join(pieces: list[str]) -> str:
    """Pieces as one text: prose runs on, a list item starts its own line, a block its own paragraph."""
    out = ""
    for piece in pieces:
        if not out:
            out = piece
        elif piece.startswith("- ") and "\n\n" not in piece:
            out += "\n" + piece
        elif "\n" in piece or out.endswith("```") or "\n- " in out[out.rfind("\n\n") + 1 :]:
            out += "\n\n" + piece
        else:
            out += " " + piece
    return out


def fit(text: str, limit: int) -> str:
    """Never more than ``limit`` characters (the composers keep whole sentences and lines; this is a backstop)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    cut = cut if cut > limit // 2 else text.rfind(" ", 0, limit - 2)
    clipped = text[:cut].rstrip() + " …"
    if clipped.count("```") % 2:  # a code block was cut: close it
        clipped += "\n```"
    return clipped
