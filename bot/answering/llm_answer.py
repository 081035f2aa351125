"""The LLM path of the answerer: condense a follow-up, write the answer, check its citations.

Passages go to the model numbered ``[1]..[k]`` inside ``<passages>`` delimiters, marked as
untrusted data; anything in a document that looks like the delimiters is neutralised so a document
cannot close its own passage and speak as the user. The conversation goes in as earlier messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.answering.llm import ChatModel, Message
from bot.answering.prompts import Prompts
from bot.schema import HISTORY_TURNS, Passage, Turn
from bot.text import strip_citations

TokenFn = Callable[[str], None]

_HISTORY_ANSWER_CHARS = 1500
_DELIMITER = re.compile(r"<(\s*/?\s*(?:passages?|conversation)\b)", re.IGNORECASE)


def format_passages(passages: Sequence[Passage]) -> str:
    """The passages as the model sees them: ``<passage id="n" ...>text</passage>``, n from 1."""
    blocks = []
    for n, p in enumerate(passages, 1):
        attrs = f'id="{n}" source="{_attr(p.source)}"'
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


def condense(llm: ChatModel, prompts: Prompts, question: str, history: Sequence[Turn]) -> str:
    """Rewrite a follow-up into a standalone question (the question itself if the reply is unusable)."""
    lines = []
    for turn in history[-HISTORY_TURNS:]:
        lines.append(f"User: {' '.join(turn.question.split())}")
        answer = " ".join(strip_citations(turn.answer).split())
        lines.append(f"Assistant: {answer[:_HISTORY_ANSWER_CHARS]}")
    messages = prompts.condense.render({"history": neutralise("\n".join(lines)), "question": question})
    reply = llm.complete(messages)
    for line in reply.strip().splitlines():
        line = re.sub(r"^\s*(standalone question\s*:)?\s*", "", line, flags=re.IGNORECASE).strip().strip('"“”')
        if line:
            return line if len(line) <= 4 * len(question) + 300 else question
    return question


def generate(
    llm: ChatModel,
    prompts: Prompts,
    question: str,
    history: Sequence[Turn],
    passages: Sequence[Passage],
    on_token: TokenFn | None = None,
) -> str:
    """The model's answer text; streamed to ``on_token`` piece by piece when it is given."""
    messages = answer_messages(prompts, question, history, passages)
    if on_token is None:
        return llm.complete(messages)
    parts = []
    for piece in llm.stream(messages):
        parts.append(piece)
        on_token(piece)
    return "".join(parts)
