"""Human-readable terminal output (rich). Document text is printed as plain Text, never as markup."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.cli.doctor import Check
from bot.schema import Answer, IngestReport, Passage
from ingest.documents.loaders import SUPPORTED_SUFFIXES
from ingest.report import IngestProgress, ProgressFn

#: A quote under a model-written answer's source is a reminder, not the passage.
QUOTE_CHARS = 200
out = Console(highlight=False, soft_wrap=True)  # long answers wrap in the terminal, not in pipes
err = Console(stderr=True, highlight=False)


def answer(result: Answer, console: Console = out) -> None:
    """The answer, then its numbered sources: title, ``file § section``, link.

    An extractive answer is made of its quotes, so they are not printed again; a model-written
    answer's sources show the passage sentence that supports each, clipped.
    """
    if result.notice:
        console.print(Text(f"note: {result.notice}", style="yellow"))
    console.print(answer_text(result))
    if not result.citations:
        if result.abstained and result.passages:
            console.print(Text("\nClosest passages (not an answer):", style="dim"))
            for p in result.passages[:3]:
                console.print(Text(f"  - {p.label} ({p.where})", style="dim"))
        return
    console.print()
    console.print(Text("Sources", style="bold"))
    for c in result.citations:
        line = Text(f"[{c.id}] ", style="bold cyan")
        line.append(c.passage.label, style="bold")
        line.append(f"  ({c.passage.where})", style="dim")
        if not c.supported:
            line.append("  [unsupported]", style="red")
        console.print(line)
        if c.passage.url:
            console.print(Text(f"    {c.passage.url}", style="blue underline"))
        if result.claims and c.quote:
            quote = c.quote if len(c.quote) <= QUOTE_CHARS else c.quote[: QUOTE_CHARS - 1].rstrip() + "…"
            console.print(Text(f"    “{quote}”", style="green"))


def answer_text(result: Answer) -> Text:
    """The answer's text; sentences its citations do not support are marked in red."""
    if result.abstained:
        return Text(result.text, style="italic")
    text = Text()
    at = 0
    for claim in sorted(result.claims, key=lambda c: c.start):
        if claim.supported or claim.start < at:
            continue
        text.append(result.text[at : claim.end])
        text.stylize("red", len(text) - (claim.end - claim.start), len(text))
        text.append(" (unsupported)" if claim.citations else " (uncited)", style="bold red")
        at = claim.end
    text.append(result.text[at:])
    return text


def passages(items: Sequence[Passage], console: Console = out) -> None:
    """Retrieved passages with their scores."""
    if not items:
        console.print(Text("No passages found.", style="italic"))
    for i, p in enumerate(items, 1):
        head = Text(f"[{i}] ", style="bold cyan")
        head.append(p.label, style="bold")
        head.append(f"  ({p.where}, score {p.score:.3f})", style="dim")
        console.print(head)
        console.print(Text(p.text.strip()))
        console.print()


def ingest_report(report: IngestReport, folder: Path, console: Console = err) -> None:
    """One summary line, then each failed or skipped file with its reason."""
    console.print(Text(f"{folder}: {report.summary()}"))
    for item in report.failed:
        console.print(Text(f"  failed  {item['path']}: {item['reason']}", style="yellow"))
    for item in report.skipped:
        console.print(Text(f"  skipped {item['path']}: {item['reason']}", style="dim"))
    if not (report.added or report.updated or report.unchanged):
        kinds = " ".join(sorted(SUPPORTED_SUFFIXES))
        console.print(Text(f"no documents ({kinds}) were indexed from {folder}", style="yellow"))


def checks(items: Sequence[Check], console: Console = out) -> None:
    """`citebot doctor`'s findings, one line each, with the fix under each problem."""
    marks = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}
    for check in items:
        mark, style = marks[check.status]
        line = Text(f"{mark} ", style=style)
        line.append(f"{check.name}: ", style="bold")
        line.append(check.detail)
        console.print(line)
        if check.fix and check.status != "ok":
            console.print(Text(f"    fix: {check.fix}", style=style))


@contextmanager
def ingest_progress(enabled: bool = True, console: Console = err) -> Iterator[ProgressFn | None]:
    """A progress bar on stderr while an ingest runs (files, chunks written, chunks/s, ETA); nothing in pipes.

    The bar and the ETA follow the bytes of the changed files done with, so one large file moves
    the bar batch by batch; chunks count what reached the index.
    """
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("ingesting"),
        BarColumn(),
        TextColumn("{task.fields[files]} files"),
        TextColumn("{task.fields[chunks]} chunks"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.description}", style="dim"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None, files="0/?", chunks="0", rate="")
        clock = _Rate()

        def update(p: IngestProgress) -> None:
            bar.update(
                task,
                completed=p.work_done,
                total=p.work_total or None,
                files=f"{p.files_done:,}/{p.files_total:,}",
                chunks=f"{p.chunks_written:,}",
                rate=clock.rate(p.chunks_written),
                description=p.current[-40:],
            )

        yield update


class _Rate:
    """Chunks written per second since the first chunk was written (model start-up left out)."""

    def __init__(self) -> None:
        self._first: tuple[float, int] | None = None

    def rate(self, chunks: int) -> str:
        now = time.monotonic()
        if self._first is None:
            if chunks:
                self._first = (now, chunks)
            return ""
        since, base = self._first
        return f"{(chunks - base) / (now - since):.1f} chunks/s" if now - since >= 1 and chunks > base else ""
