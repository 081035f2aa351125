"""`citebot chat`: a terminal conversation over ``answer()``.

The loop takes its input as a ``read(prompt) -> str`` function (raising EOFError at the end) and
prints to a rich Console, so it runs the same on a terminal, on piped stdin, and in tests.
``run_chat`` wires it to the Services: where input comes from, whether answers stream.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from rich.console import Console
from rich.text import Text

from bot.cli import render
from bot.errors import USER_ERRORS
from bot.questions.recording import ask_and_log
from bot.schema import HISTORY_TURNS, Answer, Turn
from bot.services import Services

ReadFn = Callable[[str], str]
PROMPT = "you> "
EXIT_WORDS = frozenset({"exit", "quit", "/exit", "/quit", ":q"})
HELP = (
    "Commands: /sources shows the passages behind the last answer, /reset starts a new conversation, "
    "/help shows this. Type exit or quit, or press Ctrl-D, to leave."
)


class AskFn(Protocol):
    def __call__(
        self, question: str, history: Sequence[Turn], *, on_sentence: Callable[[str], None] | None = None
    ) -> Answer: ...


def lines_reader(lines: Iterable[str]) -> ReadFn:
    """A ``read`` function over given lines (piped stdin, tests); EOFError when they run out."""
    iterator = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(iterator).rstrip("\n")
        except StopIteration:
            raise EOFError from None

    return read


def terminal_reader(console: Console) -> ReadFn:
    """Line editing and in-session history through readline where the platform has it."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it is what gives input() editing and history)

    def read(prompt: str) -> str:
        return console.input(Text(prompt, style="bold green"))

    return read


class ChatSession:
    """One conversation: its history, the last answer, and the commands."""

    def __init__(
        self, ask: AskFn, console: Console, *, streaming: bool = False, errors: tuple[type[BaseException], ...] = ()
    ) -> None:
        self.ask = ask
        self.console = console
        self.streaming = streaming
        self.errors = errors
        self.history: list[Turn] = []
        self.last: Answer | None = None

    def run(self, read: ReadFn, banner: str = "") -> None:
        """Read and answer lines until exit, quit or end of input."""
        if banner:
            self.console.print(Text(banner, style="bold"))
        self.console.print(Text(HELP, style="dim"))
        while True:
            try:
                line = read(PROMPT)
            except EOFError:
                self.console.print()
                break
            except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line, as shells do
                self.console.print()
                continue
            if not self.handle(line.strip()):
                break
        self.console.print(Text("bye", style="dim"))

    def handle(self, line: str) -> bool:
        """Act on one line; False means leave."""
        if not line:
            return True
        command = line.lower()
        if command in EXIT_WORDS:
            return False
        if command == "/reset":
            self.history.clear()
            self.last = None
            self.console.print(Text("New conversation: earlier questions are forgotten.", style="dim"))
        elif command == "/sources":
            if self.last is None:
                self.console.print(Text("No answer yet: ask a question first.", style="dim"))
            else:
                render.passages(self.last.passages, console=self.console)
        elif command in {"/help", "/?"}:
            self.console.print(Text(HELP, style="dim"))
        elif command.startswith("/"):
            self.console.print(Text(f"Unknown command {line.split()[0]}. {HELP}", style="yellow"))
        else:
            self.question(line)
        return True

    def question(self, question: str) -> None:
        """Answer one question in the context of the conversation, then remember the exchange."""
        try:
            result, streamed = self._ask(question)
        except KeyboardInterrupt:
            self.console.print(Text("(interrupted)", style="yellow"))
            return
        except self.errors as exc:
            self.console.print(Text(f"error: {exc}", style="red"))
            return
        render.answer(result, console=self.console, streamed=streamed)
        self.console.print()
        self.last = result
        self.history.append(Turn(question, result.text))
        del self.history[:-HISTORY_TURNS]

    def _ask(self, question: str) -> tuple[Answer, str]:
        """The answer, and what of it was already printed while the model wrote."""
        if not self.streaming:
            with self.console.status("thinking…"):
                return self.ask(question, list(self.history)), ""
        with render.Streamer(self.console) as streamer:
            return self.ask(question, list(self.history), on_sentence=streamer), streamer.text


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

    def ask(question: str, history: Sequence[Turn], *, on_sentence: Callable[[str], None] | None = None) -> Answer:
        return ask_and_log(services, question, history, k, origin="chat", on_sentence=on_sentence).answer

    settings = services.settings
    mode = f"answers by {settings.llm_model} at {settings.llm_base_url}" if llm else "extractive answers"
    banner = f"citebot chat ({mode}). Ask about your documents."  # how to leave: the help line under it
    ChatSession(ask, console, streaming=llm is not None, errors=USER_ERRORS).run(read, banner)
