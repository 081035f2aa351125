"""The embedded index's ingest lock: one holder at a time, and no lock file left beside an index nobody writes."""

from __future__ import annotations

import os

import pytest

from ingest.errors import IngestLockedError
from ingest.index.chroma_client import Place
from ingest.index.lock import _FileLock, ingest_lock


def _place(tmp_path):
    return Place(tmp_path / "index", None, 0, 1.0, 1.0)


def test_the_lock_file_is_gone_once_the_ingest_lets_go(tmp_path):
    with ingest_lock(client=None, name="docs", wait=0, place=_place(tmp_path)):
        held = list(tmp_path.glob(".index.docs.*lock"))
        assert len(held) == 1 and f'"pid": {os.getpid()}' in held[0].read_text()
        second = ingest_lock(client=None, name="docs", wait=0, place=_place(tmp_path))
        with pytest.raises(IngestLockedError, match=f"another ingest \\(pid {os.getpid()} on"):
            second.__enter__()
    assert list(tmp_path.iterdir()) == []  # nothing left beside the (never created) index folder


def test_a_waiter_that_opened_the_deleted_file_locks_the_new_one(tmp_path):
    path = tmp_path / "x.lock"
    first, second = _FileLock(path), _FileLock(path)
    assert first.try_acquire() is None
    stale = os.open(path, os.O_RDWR)  # a waiter opened the file just before the holder let go
    try:
        first.release()
        assert not path.exists() and not second._still_named(stale)
    finally:
        os.close(stale)
    assert second.try_acquire() is None and path.exists()
    assert _FileLock(path).try_acquire() is not None  # and the new file excludes a third
    second.release()
    assert not path.exists()


def test_a_lock_file_left_by_a_killed_holder_is_taken_over_and_removed(tmp_path):
    path = tmp_path / ".index.docs.ingest.index.lock"
    path.write_text('{"pid": 999999}')  # the kernel dropped the flock; the file stayed
    with ingest_lock(client=None, name="docs", wait=0, place=_place(tmp_path)):
        assert f'"pid": {os.getpid()}' in path.read_text()
    assert not path.exists()
