"""Wires `citebot chat` to the Services: where input comes from, whether answers stream."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from rich.console import Console

from bot.chat import ChatSession, ReadFn, lines_reader, terminal_reader
from bot.errors import USER_ERRORS
from bot.schema import Answer, Turn
from bot.services import Services


def run_chat(
    services: Services, *, k: int | None = None, read: ReadFn | None = None, console: Console | None = None
) -> None:
    """Check the index and the LLM settings up front, then hold the conversation."""
    console = console or Console(highlight=False)
    services.retriever  # noqa: B018  (fails now, with the fix, if nothing is indexed)
    llm = services.llm
    services.prompts  # noqa: B018  (a broken prompt file is reported before the first question)
    if read is None:
        read = terminal_reader(console) if sys.stdin.isatty() else lines_reader(sys.stdin)

    def ask(question: str, history: Sequence[Turn], *, on_token: Callable[[str], None] | None = None) -> Answer:
        return services.ask(question, history, k, on_token=on_token)

    settings = services.settings
    mode = f"answers by {settings.llm_model} at {settings.llm_base_url}" if llm else "extractive answers"
    banner = f"citebot chat ({mode}). Ask about your documents; type exit or quit, or press Ctrl-D, to leave."
    ChatSession(ask, console, streaming=llm is not None, errors=USER_ERRORS).run(read, banner)
