"""The document reader process: a file past the time or memory limit is a skip, and the next file is read."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from ingest.documents.load_worker import LoadWorker
from ingest.errors import SkipFile
from tests.support import EXAMPLES


@pytest.fixture
def worker():
    w = LoadWorker(timeout=60)
    yield w
    w.close()


def test_documents_read_in_the_child_are_the_same_as_read_here(worker):
    from ingest.documents.loaders import load_document

    for path in sorted(EXAMPLES.iterdir()):
        assert worker.load(path) == load_document(path)


def test_a_file_past_the_time_limit_is_skipped_and_the_next_one_is_read(worker, tmp_path):
    slow = tmp_path / "slow.md"
    slow.write_text("\n\n".join(f"Paragraph {i} with a few words in it." for i in range(60_000)))
    worker.timeout = 0.05
    with pytest.raises(SkipFile, match=r"took longer than 0\.05 s to read \(CITEBOT_FILE_TIMEOUT\)"):
        worker.load(slow)
    worker.timeout = 60
    assert worker.load(EXAMPLES / "tide-pools.md").title


def test_a_file_past_the_memory_limit_is_skipped_and_the_next_one_is_read(tmp_path):
    huge = tmp_path / "huge.txt"
    huge.write_text("Words in a sentence here. " * 1_000_000)  # 26 MB: several hundred MB to read
    worker = LoadWorker(timeout=120, memory_mb=150)
    try:
        with pytest.raises(SkipFile, match="memory limit"):
            worker.load(huge)
        assert worker.load(EXAMPLES / "heat-pumps.html").title
    finally:
        worker.close()


def test_a_reader_that_dies_is_replaced(worker):
    assert worker.load(EXAMPLES / "tide-pools.md")
    os.kill(worker._proc.pid, signal.SIGKILL)  # as the kernel's OOM killer would
    worker._proc.wait()
    assert worker.load(EXAMPLES / "tide-pools.md").title  # a new reader


def test_without_a_reader_process_files_are_read_here_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    worker = LoadWorker(timeout=60)
    with caplog.at_level(logging.WARNING):
        assert worker.load(EXAMPLES / "tide-pools.md").title
    assert "no document reader process" in caplog.text


def test_reader_problems_keep_their_reason(worker, tmp_path):
    binary = tmp_path / "data.txt"
    binary.write_bytes(bytes(range(256)) * 50)
    with pytest.raises(SkipFile, match="binary"):
        worker.load(binary)
    missing: Path = tmp_path / "gone.md"
    with pytest.raises(SkipFile, match="cannot read"):
        worker.load(missing)


def test_a_file_with_nothing_to_index_stays_a_skip_and_includes_are_read_in_the_child(worker, tmp_path):
    from ingest.errors import NothingToIndex

    (tmp_path / "_flag.mdx").write_text("Override CPU architecture of native modules.\n")
    with pytest.raises(NothingToIndex, match="an MDX partial"):  # not a plain SkipFile: it is not a failure
        worker.load(tmp_path / "_flag.mdx", tmp_path)
    page = tmp_path / "add.md"
    page.write_text("# Add\n\nInstalls a package.\n\nimport Flag from './_flag.mdx'\n\n<Flag />\n")
    doc = worker.load(page, tmp_path)
    assert doc.metadata["includes"] == ["_flag.mdx"]
    assert "Override CPU architecture of native modules." in [b.text for b in doc.blocks]
