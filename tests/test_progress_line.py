"""The ingest's progress line as a terminal 80 columns wide shows it."""

from __future__ import annotations

import io

from rich.console import Console

from bot.cli.render import ProgressLine, _Eta
from ingest.report import IngestProgress


def rendered(line: ProgressLine, console: Console) -> str:
    console.print(line.progress.make_tasks_table(line.progress.tasks))
    return console.export_text()


def test_the_line_fits_80_columns_and_cuts_the_file_name_first():
    console = Console(file=io.StringIO(), force_terminal=True, width=80, record=True)
    line = ProgressLine(console)
    name = "reference/very/deeply/nested/section/of/the/site/configuration-options-for-everything.md"
    line.update(IngestProgress(3, 18, 0, 10.0, 100.0, name, files_seen=5))
    text = rendered(line, console)
    assert text.count("\n") == 1 and len(text.rstrip("\n")) <= 80, text  # one line, within the width
    assert "5/18 files" in text and "0 chunks" in text  # read files count before any chunk is written
    assert "ETA" not in text and "-:--" not in text  # no rate yet: no ETA, not a placeholder
    assert "…" in text and "configuration" not in text.split("files")[0]
    assert "everything.md" in text  # the path is cut from its start: the file's own name stays visible


def test_the_eta_waits_for_a_rate_then_follows_it(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("bot.cli.render.time.monotonic", lambda: now[0])
    eta = _Eta()
    assert eta.left(0.0, 100.0) == ""  # nothing done yet
    assert eta.left(10.0, 100.0) == ""  # the first work done starts the clock
    now[0] += 1.0
    assert eta.left(20.0, 100.0) == ""  # too soon to judge
    now[0] += 3.0
    assert eta.left(50.0, 100.0) == "ETA 0:05"  # 40 done in 4 s: 50 left take 5 s
