"""The LLM path of the answerer: condense a follow-up, write the answer, check its citations.

Passages go to the model numbered ``[1]..[k]`` inside ``<passages>`` delimiters, marked as
untrusted data; anything in a document that looks like the delimiters is neutralised so a document
cannot close its own passage and speak as the user. The conversation goes in as earlier messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from bot.answering.llm import ChatModel, DeadlineReached, EmptyReply, Message
from bot.answering.prompts import Prompts
from bot.answering.verify import finished_part
from bot.schema import HISTORY_TURNS, Passage, Turn
from bot.text import content_terms, strip_citations

TokenFn = Callable[[str], None]
GiveUpFn = Callable[[], bool]

#: A standalone question is one line; a model that goes on is answering it, not rewriting it.
CONDENSE_MAX_TOKENS = 96
#: The prompt's own markup in a reply means the model is copying its prompt, not answering (small
#: models do): the reply ends there, and what came before is checked as any answer.
ECHO_STOPS = ("<passage", "</passage")

_HISTORY_ANSWER_CHARS = 1500
_DELIMITER = re.compile(r"<(\s*/?\s*(?:passages?|conversation)\b)", re.IGNORECASE)


def format_passages(passages: Sequence[Passage]) -> str:
    """The passages as the model sees them: ``<passage id="n" ...>text</passage>``, n from 1."""
    blocks = []
    for n, p in enumerate(passages, 1):
        attrs = f'id="{n}" source="{_attr(p.path)}"'
        if p.title:
            attrs += f' title="{_attr(p.title)}"'
        if p.date:
            attrs += f' date="{_attr(p.date)}"'
        blocks.append(f"<passage {attrs}>\n{neutralise(p.text.strip())}\n</passage>")
    return "\n".join(blocks)


def neutralise(text: str) -> str:
    """Make look-alikes of the prompt's delimiters inert (``</passage>`` -> ``&lt;/passage>``)."""
    return _DELIMITER.sub(r"&lt;\1", text)


def _attr(value: str) -> str:
    return neutralise(" ".join(value.split())).replace('"', "&quot;")


def model_passages(passages: Sequence[Passage], quoted: Collection[str], budget: int) -> list[Passage]:
    """The passages a model reads, in their ranked order: the ``quoted`` ones (chunk ids the
    extractive answer quotes: those that hold what the question asks) first, then the others,
    each whole while the ``budget`` of characters allows, and always at least one.

    Reading the prompt is most of a small local model's time (a 270M model on 2 cores reads about
    500 characters a second); a model's answer is kept only if it cites a quoted passage anyway.
    """
    order = sorted(range(len(passages)), key=lambda i: passages[i].chunk_id not in quoted)
    chosen: set[int] = set()
    used = 0
    for i in order:
        size = len(passages[i].text)
        if chosen and used + size > budget:
            continue
        chosen.add(i)
        used += size
    return [p for i, p in enumerate(passages) if i in chosen]


def history_messages(history: Sequence[Turn]) -> list[Message]:
    """The last turns as user/assistant messages; old citation markers are removed (they meant other passages)."""
    out: list[Message] = []
    for turn in history[-HISTORY_TURNS:]:
        out.append(Message("user", turn.question))
        answer = strip_citations(turn.answer).strip()
        if len(answer) > _HISTORY_ANSWER_CHARS:
            answer = answer[:_HISTORY_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
        out.append(Message("assistant", answer))
    return out


def answer_messages(
    prompts: Prompts, question: str, history: Sequence[Turn], passages: Sequence[Passage]
) -> list[Message]:
    """System instructions, then the conversation, then the delimited passages and the question."""
    rendered = prompts.answer.render({"passages": format_passages(passages), "question": question})
    head = [m for m in rendered if m.role == "system"]
    tail = [m for m in rendered if m.role != "system"]
    return head + history_messages(history) + tail


def condense(llm: ChatModel, prompts: Prompts, question: str, history: Sequence[Turn]) -> str | None:
    """Rewrite a follow-up into a standalone question; None when the model's rewrite is unusable.

    Unusable: empty, far longer than a question, or off the conversation's topic (it shares no
    content word with the follow-up or the earlier questions: a small model may answer, or drift).
    """
    lines = []
    for turn in history[-HISTORY_TURNS:]:
        lines.append(f"User: {' '.join(turn.question.split())}")
        answer = " ".join(strip_citations(turn.answer).split())
        lines.append(f"Assistant: {answer[:_HISTORY_ANSWER_CHARS]}")
    messages = prompts.condense.render({"history": neutralise("\n".join(lines)), "question": question})
    try:
        reply = llm.complete(messages, max_tokens=CONDENSE_MAX_TOKENS)
    except EmptyReply:
        return None
    for line in reply.strip().splitlines():
        line = re.sub(r"^\s*(standalone question\s*:)?\s*", "", line, flags=re.IGNORECASE).strip().strip('"“”')
        if line:
            if len(line) > 4 * len(question) + 300:
                return None
            context = set(content_terms(question))
            for turn in history[-HISTORY_TURNS:]:
                context.update(content_terms(turn.question))
            return line if context & set(content_terms(line)) else None
    return None


@dataclass(frozen=True)
class Generated:
    """The model's answer text, and why it ends early when it was cut off (else empty)."""

    text: str
    cut_off: str = ""
    given_up: bool = False  # ``give_up`` ended it: what came was enough to know it will not be kept

    @property
    def finished(self) -> bool:
        """Whether the model ended the reply itself (else ``text`` is its whole sentences only)."""
        return not (self.cut_off or self.given_up)


def generate(
    llm: ChatModel,
    prompts: Prompts,
    question: str,
    history: Sequence[Turn],
    passages: Sequence[Passage],
    on_token: TokenFn | None = None,
    give_up: GiveUpFn | None = None,
) -> Generated:
    """The model's answer, streamed (to ``on_token`` piece by piece when it is given).

    It is always streamed so that the deadline can cut it: what came before the deadline is kept
    (the caller checks it as any answer). ``give_up``, asked after each piece, ends the reply early
    and closes the request, so the server stops writing it. Any other failure, even mid-stream,
    raises ``LLMError``.
    """
    messages = answer_messages(prompts, question, history, passages)
    parts: list[str] = []
    pieces = llm.stream(messages, stop=ECHO_STOPS)
    try:
        for piece in pieces:
            parts.append(piece)
            if on_token is not None:
                on_token(piece)
            if give_up is not None and give_up():
                return Generated(finished_part("".join(parts)), given_up=True)
    except DeadlineReached as exc:
        if not parts:
            raise
        return Generated(finished_part("".join(parts)), str(exc))
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # left early: the request is closed, so the server stops writing
    return Generated("".join(parts))
