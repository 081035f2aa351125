"""Watch mode: `watch_changes` in a thread with a stop event, and `citebot ingest --watch` with Ctrl-C."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from bot.schema import IngestReport
from bot.services import Services
from bot.settings import load_settings
from ingest.watch import is_relevant, watch_changes
from tests.crashcheck import ROOT, driver_env
from tests.support import FakeEmbedder

WAIT = 60  # seconds; generous because the test machine is shared


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


def test_relevance_filter(tmp_path):
    keep = is_relevant(tmp_path)
    assert keep(None, str(tmp_path / "a.txt")) and keep(None, str(tmp_path / "sub" / "b.PDF"))
    assert keep(None, str(tmp_path / "folder"))  # a folder moved or deleted
    assert not keep(None, str(tmp_path / ".a.txt"))
    assert not keep(None, str(tmp_path / ".git" / "x.md"))
    assert not keep(None, str(tmp_path / "node_modules" / "x.md"))
    assert not keep(None, str(tmp_path / "x.docx"))
    assert not keep(None, "/elsewhere/a.txt")


@pytest.mark.e2e
def test_cli_watch_follows_changes_and_exits_cleanly_on_ctrl_c(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text(_doc("The harbour crane lifts containers"))
    env = {**driver_env(), "CITEBOT_INDEX_DIR": str(tmp_path / "index")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(docs), "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    seen: list[str] = []

    def until(predicate) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "".join(seen)
                continue
            seen.append(line)
            if predicate(line):
                return line
        raise AssertionError("".join(seen))

    try:
        until(lambda line: line.startswith("watching "))
        (docs / "tunnel.txt").write_text(_doc("The tunnel under the river opened"))
        report = json.loads(until(lambda line: line.startswith('{"added"')))
        assert report["added"] == 1 and report["unchanged"] == 1
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)
    assert proc.returncode == 0, output
    assert "stopped watching" in output and "Traceback" not in output
