"""Human-readable terminal output (rich). Document text is printed as plain Text, never as markup."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.status import Status
from rich.text import Text

from bot.answering.declines import NOT_FOUND
from bot.cli.doctor import Check
from bot.schema import Answer, Citation, IngestReport, Passage
from ingest.documents.loaders import NOTHING_TO_INDEX, SUPPORTED_SUFFIXES
from ingest.report import IngestProgress, ProgressFn

#: A quote under a source is a reminder of the passage, not the passage.
QUOTE_CHARS = 200
out = Console(highlight=False, soft_wrap=True)  # long answers wrap in the terminal, not in pipes
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a summary piped to a file stays one line


def answer(result: Answer, console: Console = out, *, streamed: str = "") -> None:
    """The answer, then its sources: each document once (title, path, link), and under it each cited
    section with the quoted passage (clipped), marked with the number the answer uses.

    ``streamed``: the verified sentences already printed while the model wrote (``Streamer``). When
    they are the answer, it is not printed again; when the extractive answer replaced the model's,
    it follows them, after the line that says why. Nothing printed is erased.
    """
    if streamed:
        console.print()  # end the streamed text's last line
    if streamed and result.claims and " ".join(streamed.split()) == " ".join(result.text.split()):
        if result.notice:
            console.print(Text(f"note: {result.notice}", style="yellow"))
    else:
        if result.notice:
            console.print(Text(f"note: {result.notice}", style="yellow"))
        console.print(answer_text(result))
    if not result.citations:
        if result.text == NOT_FOUND and result.passages:  # the other declines name their pages themselves
            console.print(Text("\nClosest passages (not an answer):", style="dim"))
            for p in result.passages[:3]:
                console.print(Text(f"  - {p.label} ({p.where})", style="dim"))
        return
    console.print()
    console.print(Text("Sources", style="bold"))
    for cited in _by_document(result.citations):
        first = cited[0].passage
        line = Text(" ".join(f"[{c.id}]" for c in cited) + " ", style="bold cyan")
        line.append(first.label, style="bold")
        if first.label != first.path:
            line.append(f"  ({first.path})", style="dim")
        console.print(line)
        urls = list(dict.fromkeys(c.passage.url for c in cited if c.passage.url))
        for c in cited:
            where = _place(c.passage)
            head = Text("    ")
            if len(cited) > 1:
                head.append(f"[{c.id}] ", style="cyan")
            if where:
                head.append(f"{where}: ", style="dim")
            quote = " ".join(c.quote.split())
            quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"
            quoted = quote if quote[:1] in "“\"‘'" else f"“{quote}”"  # a quote that opens with one is not wrapped twice
            head.append(quoted if quote else "", style="green")
            if not c.supported:
                head.append("  [unsupported]", style="red")
            console.print(head)
            if len(urls) > 1 and c.passage.url:
                console.print(Text(f"      {c.passage.url}", style="blue underline"))
        if len(urls) == 1:
            console.print(Text(f"    {urls[0]}", style="blue underline"))


class Streamer:
    """Prints a model's answer one verified sentence at a time, as ``on_sentence`` receives them.

    A spinner shows until the first sentence comes; then each is printed where the last one ended
    and stays (``answer(result, streamed=...)`` completes it). Use as a context manager.
    """

    def __init__(self, console: Console = out) -> None:
        self.console = console
        self.text = ""
        self._status: Status | None = None

    def __enter__(self) -> Streamer:
        self._status = self.console.status("thinking…")
        self._status.start()
        return self

    def __call__(self, piece: str) -> None:
        self._stop_spinner()
        self.console.print(Text(piece), end="")
        self.text += piece

    def __exit__(self, *exc: object) -> None:
        self._stop_spinner()

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _by_document(citations: Sequence[Citation]) -> list[list[Citation]]:
    """Citations grouped by their document, in the order the documents are first cited."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.passage.source, []).append(c)
    return list(groups.values())


def _place(p: Passage) -> str:
    """Where in its document a passage is: ``§ section``, with the page for PDFs."""
    out = f"§ {p.section}" if p.section else ""
    if p.page:
        out = f"{out}, page {p.page}" if out else f"page {p.page}"
    return out


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


def ingest_report(report: IngestReport, folder: str | Path, console: Console = err) -> None:
    """One summary line, then each failed or skipped file with its reason."""
    console.print(Text(f"{folder}: {report.summary()}"))
    for item in report.failed:
        console.print(Text(f"  failed  {item['path']}: {item['reason']}", style="yellow"))
    empty = [item["path"] for item in report.skipped if item["reason"].startswith(NOTHING_TO_INDEX)]
    for item in report.skipped:
        if not item["reason"].startswith(NOTHING_TO_INDEX):
            console.print(Text(f"  skipped {item['path']}: {item['reason']}", style="dim"))
    if empty:  # pages of directives or includes only, templates: one line, however many
        shown = ", ".join(empty[:4]) + (f" and {len(empty) - 4} more" if len(empty) > 4 else "")
        files = "file" if len(empty) == 1 else "files"
        console.print(
            Text(
                f"  skipped {len(empty)} {files} with {NOTHING_TO_INDEX} (no prose of their own): {shown}", style="dim"
            )
        )
    if not (report.added or report.updated or report.unchanged):
        kinds = " ".join(sorted(SUPPORTED_SUFFIXES))
        console.print(Text(f"error: no documents ({kinds}) were indexed from {folder}", style="yellow"))


class WatchReports:
    """How `ingest --watch` shows each re-ingest: one summary line, then only the failed or skipped files
    that were not reported already (a file that keeps failing is said once, until it is fixed)."""

    def __init__(self, folder: str | Path, first: IngestReport, console: Console = err) -> None:
        self.folder = folder
        self.console = console
        self.known = first.problems()

    def __call__(self, report: IngestReport) -> None:
        self.console.print(Text(f"{self.folder}: {report.summary()}"))
        problems = report.problems()
        for (kind, path), reason in problems.items():
            if (kind, path) not in self.known:
                style = "yellow" if kind == "failed" else "dim"
                self.console.print(Text(f"  {kind:<7} {path}: {reason}", style=style))
        self.known = problems


def sources(rows: Sequence[dict[str, object]], console: Console = out) -> None:
    """`citebot sources`: one line per source, then its folder and link base."""
    if not rows:
        console.print(
            Text(
                "no sources yet: add a folder with `citebot ingest PATH` (or a site: `citebot ingest URL`)",
                style="yellow",
            )
        )
        return
    for row in rows:
        line = Text(f"{row['name']}", style="bold")
        line.append(f"  {row['documents']} documents, {row['chunks']} chunks")
        line.append(f"  last ingest {row['last_ingest'] or 'never'}", style="dim")
        console.print(line)
        if row.get("recorded") is False:
            console.print(
                Text(
                    f"    folder not recorded yet (an earlier citebot built it); CITEBOT_DOCS_DIR is {row['location']}"
                )
            )
        elif row.get("kind") == "site":
            console.print(Text(f"    {row['location']} (a site: crawled; citations link to its pages)"))
            continue
        else:
            console.print(Text(f"    {row['location']}"))
        if row.get("site_url"):
            console.print(Text(f"    links to {row['site_url']}", style="dim"))


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
    """A progress line on stderr while an ingest runs (bar, files, chunks written, chunks/s, ETA, the file);
    nothing in pipes.

    The bar and the ETA follow the bytes of the changed files done with, so one large file moves the bar
    batch by batch; files count as soon as they are read; chunks count what reached the index. The ETA
    shows once there is a rate to base it on. The line fits the terminal: the file name is cut first.
    """
    if not enabled or not console.is_terminal:
        yield None
        return
    line = ProgressLine(console)
    with line.progress:
        yield line.update


#: Characters of the progress line's bar.
BAR_WIDTH = 16


class ProgressLine:
    """The ingest's progress line: a rich Progress with one task, and ``update`` to feed it."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, Progress, TextColumn
        from rich.table import Column

        self.progress = Progress(
            TextColumn("ingesting"),
            BarColumn(bar_width=BAR_WIDTH),
            TextColumn("{task.fields[files]} files"),
            TextColumn("{task.fields[chunks]} chunks"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[eta]}"),
            TextColumn(
                "{task.description}",
                style="dim",
                table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis", min_width=1),
            ),
            console=console,
            transient=True,
            expand=True,
        )
        self.task = self.progress.add_task("", total=None, files="0/?", chunks="0", rate="", eta="")
        self.clock = _Rate()
        self.eta = _Eta()

    def update(self, p: IngestProgress) -> None:
        files = f"{max(p.files_seen, p.files_done):,}/{p.files_total:,}"
        chunks = f"{p.chunks_written:,}"
        rate = self.clock.rate(p.chunks_written)
        eta = self.eta.left(p.work_done, p.work_total)
        # The room the other columns leave (one space between columns), so that the path is cut from its
        # start and the file's own name stays visible, not cut at its end by the column.
        used = len(f"ingesting {'x' * BAR_WIDTH} {files} files {chunks} chunks {rate} {eta} ")
        room = max(1, min(60, self.progress.console.width - used - 1))
        self.progress.update(
            self.task,
            completed=p.work_done,
            total=p.work_total or None,
            description=_tail(p.current, room),
            files=files,
            chunks=chunks,
            rate=rate,
            eta=eta,
        )


def _tail(path: str, width: int) -> str:
    """The end of a path, which names the file: ``…/guide/install.md``."""
    return path if len(path) <= width else "…" + path[len(path) - width + 1 :]


class _Eta:
    """Time left from the work done so far, once there is enough of it to judge by (else empty)."""

    SETTLE_S = 2.0  # the model's start-up and the first batch say little about the rate

    def __init__(self) -> None:
        self._start: tuple[float, float] | None = None

    def left(self, done: float, total: float) -> str:
        now = time.monotonic()
        if self._start is None:
            if done > 0:
                self._start = (now, done)
            return ""
        since, base = self._start
        if total <= 0 or done <= base or now - since < self.SETTLE_S:
            return ""
        seconds = (total - done) * (now - since) / (done - base)
        minutes, secs = divmod(int(seconds + 0.5), 60)
        hours, minutes = divmod(minutes, 60)
        return f"ETA {hours}:{minutes:02d}:{secs:02d}" if hours else f"ETA {minutes}:{secs:02d}"


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
