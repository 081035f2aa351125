"""Watch mode: `watch_changes` in a thread with a stop event, and `citebot ingest --watch` with Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.schema import IngestReport
from bot.services import Services
from bot.settings import load_settings
from ingest.watch import is_relevant, watch_changes
from tests.crashcheck import ROOT, driver_env, open_view
from tests.support import FakeEmbedder

WAIT = 60  # seconds; generous because the test machine is shared
CLI_DRIVER = ROOT / "tests" / "cli_driver.py"  # the real CLI with the fake embedder


def _doc(words: str) -> str:
    return f"{words}\n\n" + " ".join([words] * 20) + "\n"


@pytest.fixture
def watched(tmp_path):
    """A folder, ingested once, watched by `watch_changes` in a thread; yields (folder, reports, services)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text(_doc("The harbour crane lifts containers"))
    (docs / "orchard.md").write_text(_doc("Apple orchards bloom in spring"))
    # The real model is covered by the CLI test below.
    services = Services(load_settings(index_dir=tmp_path / "index", collection="watch-test"), embedder=FakeEmbedder())
    assert services.ingest(docs).added == 2
    # Changed after the last ingest but before the watcher starts: the catch-up must see it.
    (docs / "glacier.txt").write_text(_doc("Glaciers carve valleys slowly"))
    reports: queue.Queue[IngestReport] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_changes,
        args=(docs, lambda: services.ingest(docs), reports.put),
        kwargs={"stop": stop, "debounce_ms": 800},
    )
    thread.start()
    try:
        yield docs, reports, services
    finally:
        stop.set()
        thread.join(timeout=WAIT)
    assert not thread.is_alive(), "watch_changes did not stop when asked"


def test_watch_reports_created_edited_deleted_and_bursts(watched):
    docs, reports, services = watched
    first = reports.get(timeout=WAIT)
    assert (first.added, first.unchanged) == (1, 2)  # the catch-up found glacier.txt

    (docs / "tunnel.txt").write_text(_doc("The tunnel under the river opened"))
    report = reports.get(timeout=WAIT)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)

    (docs / "harbour.txt").write_text(_doc("The harbour crane was replaced by a bigger crane"))
    report = reports.get(timeout=WAIT)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 3)

    (docs / "orchard.md").unlink()
    report = reports.get(timeout=WAIT)
    assert (report.added, report.updated, report.removed) == (0, 0, 1)

    # Changes ingest never sees do not trigger a run: the next report is the real file's.
    (docs / ".hidden.txt").write_text("secret")
    (docs / "notes.xyz").write_text("unsupported")
    (docs / ".git").mkdir()
    (docs / ".git" / "HEAD.txt").write_text("ref")
    time.sleep(1.0)
    (docs / "copper.txt").write_text(_doc("Copper prices rose this week"))
    report = reports.get(timeout=WAIT)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)

    for i in range(5):  # a burst, as a copy of several files makes
        (docs / f"burst{i}.txt").write_text(_doc(f"Burst document number {i} about lanterns"))
    burst = [reports.get(timeout=WAIT)]
    while sum(r.added for r in burst) < 5:
        burst.append(reports.get(timeout=WAIT))
    assert sum(r.added for r in burst) == 5 and burst[0].added >= 2  # grouped, not one run per file

    sources = {c.meta.source for c in services.store().reader.iter_chunks()}
    assert sources == {"harbour.txt", "glacier.txt", "tunnel.txt", "copper.txt"} | {f"burst{i}.txt" for i in range(5)}
    assert reports.empty()


def test_watch_survives_a_failing_file(watched):
    docs, reports, _ = watched
    reports.get(timeout=WAIT)  # catch-up
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    report = reports.get(timeout=WAIT)
    assert [f["path"] for f in report.failed] == ["broken.pdf"]
    (docs / "after.txt").write_text(_doc("Still watching after a broken file"))
    report = reports.get(timeout=WAIT)
    assert report.added == 1


def test_a_change_that_leaves_the_index_as_it_was_says_nothing(watched):
    """A save without edits (or the second event of one write) re-ingests nothing and reports nothing."""
    docs, reports, _ = watched
    reports.get(timeout=WAIT)  # catch-up
    text = (docs / "harbour.txt").read_text()
    (docs / "harbour.txt").write_text(text)  # same words, a new modification time
    time.sleep(2.0)  # longer than a burst and its re-ingest
    (docs / "copper.txt").write_text(_doc("Copper prices rose this week"))
    report = reports.get(timeout=WAIT)
    assert (report.added, report.updated) == (1, 0)  # the next report is the real change's
    assert reports.empty()


def test_relevance_filter(tmp_path):
    keep = is_relevant(tmp_path)
    assert keep(None, str(tmp_path / "a.txt")) and keep(None, str(tmp_path / "sub" / "b.PDF"))
    assert keep(None, str(tmp_path / "folder"))  # a folder moved or deleted
    assert not keep(None, str(tmp_path / ".a.txt"))
    assert not keep(None, str(tmp_path / ".git" / "x.md"))
    assert not keep(None, str(tmp_path / "node_modules" / "x.md"))
    assert not keep(None, str(tmp_path / "x.docx"))
    assert not keep(None, "/elsewhere/a.txt")


class WatchProcess:
    """`citebot ingest DOCS --watch --json` in a child process, started with a chosen SIGINT disposition.

    Every wait is on the child's output (a line that says the event happened) or on its exit, never
    on a fixed sleep that a busy machine can outrun.
    """

    def __init__(self, command: list[str], env: dict[str, str], sigint: Any) -> None:
        # The child's SIGINT disposition is set explicitly: otherwise it inherits pytest's, which is
        # "ignored" when the suite runs as a background job of a non-interactive shell.
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=ROOT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)  # end of output: the child closed it (it exited)

    def until(self, predicate: Callable[[str], bool], timeout: float = 120) -> str:
        """The first line of output that satisfies ``predicate``; fails if the child exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the watch exited ({self.proc.wait()}) before the line awaited:\n{self.output}")
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(self.output)

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C: SIGINT to the child's process group, as a terminal sends it (its document reader included);
        its exit code, with all it wrote read to the end."""
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"SIGINT did not stop the watch within {timeout} s:\n{self.output}") from None
        self._reader.join(timeout=timeout)  # the rest of the output, up to end of file
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def output(self) -> str:
        return "".join(self.seen)


def _watch_ctrl_c(command: list[str], env: dict[str, str], docs: Path, sigint: Any) -> str:
    """Start the watch, change a file, await its report, press Ctrl-C; check the exit; return the output."""
    watch = WatchProcess(command, env, sigint)
    try:
        watch.until(lambda line: line.startswith("watching "))
        (docs / "tunnel.txt").write_text(_doc("The tunnel under the river opened"))
        report = json.loads(watch.until(lambda line: line.startswith('{"added"')))
        assert report["added"] == 1 and report["unchanged"] == 1
        code = watch.interrupt()
    finally:
        watch.close()
    assert code == 0, watch.output  # docs/ingest.md: "Ctrl-C stops it cleanly (exit 0)"
    assert "stopped watching" in watch.output and "Traceback" not in watch.output
    return watch.output


def _assert_consistent(index_dir: Path, collection: str) -> None:
    """The index Ctrl-C left: both documents, each one complete version, nothing hidden, nothing mid-change."""
    seen = open_view(index_dir, collection)
    assert set(seen.docs) == {"harbour.txt", "tunnel.txt"} == set(seen.manifest)
    assert all(len(hashes) == 1 for hashes, _chunks in seen.docs.values())
    assert seen.hidden == 0 and not seen.dirty


def _watched_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text(_doc("The harbour crane lifts containers"))
    return docs, {**driver_env(), "CITEBOT_INDEX_DIR": str(tmp_path / "index"), "CITEBOT_COLLECTION": "watch-test"}


@pytest.mark.e2e
def test_cli_watch_follows_changes_and_exits_cleanly_on_ctrl_c(tmp_path):
    docs, env = _watched_folder(tmp_path)
    command = [sys.executable, "-m", "bot.cli", "ingest", str(docs), "--watch", "--json"]
    _watch_ctrl_c(command, env, docs, signal.SIG_DFL)
    _assert_consistent(tmp_path / "index", "watch-test")


def test_ctrl_c_stops_a_watch_started_with_sigint_ignored(tmp_path):
    """The background-job condition: a non-interactive shell's `make test &` starts everything with SIGINT
    ignored, which survives exec. The watch must still stop on Ctrl-C, with the index consistent."""
    docs, env = _watched_folder(tmp_path)
    command = [sys.executable, str(CLI_DRIVER), "ingest", str(docs), "--watch", "--json"]
    _watch_ctrl_c(command, env, docs, signal.SIG_IGN)
    _assert_consistent(tmp_path / "index", "watch-test")


def test_the_watch_says_one_line_per_change_and_a_failing_file_once(tmp_path):
    docs, env = _watched_folder(tmp_path)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF at all")
    command = [sys.executable, str(CLI_DRIVER), "ingest", str(docs), "--watch"]
    watch = WatchProcess(command, env, signal.SIG_DFL)
    try:
        watch.until(lambda line: line.startswith("watching "))
        first = watch.output
        for i in range(3):
            (docs / "harbour.txt").write_text(_doc(f"The harbour crane lifts container number {i}"))
            watch.until(lambda line: "1 updated" in line)
        code = watch.interrupt()
    finally:
        watch.close()
    assert code == 0
    assert "broken.pdf" in first  # the first ingest says what failed ...
    after = watch.output[len(first) :].splitlines()
    assert len(after) == 4 and after[-1] == "stopped watching", after  # ... then one line per change, no repeats
    assert all(line.startswith(f"{docs}: 0 added, 1 updated") for line in after[:3])
    assert "1 chunk written" in after[0]
