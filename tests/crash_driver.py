"""Test driver for the kill tests: ingest a folder with the fake embedder, numbering every write.

    python tests/crash_driver.py INDEX_DIR DOCS_DIR [PAUSE_AFTER [BATCH]]

Each Chroma call that writes (add, upsert, update, delete, modify) prints ``WRITE <n> <collection>
<method>`` on stdout. With PAUSE_AFTER = n the driver prints ``PAUSED`` after the n-th write and
waits forever, so the test can kill it (SIGKILL) exactly between two writes. BATCH is the
ingest's batch size in chunks (small in the tests, so that batches cut documents). This hook
lives here, in test code: the production write path is untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.index.chroma_client import open_client
from ingest.report import IngestReport
from tests.support import FakeEmbedder, TappedClient, make_ingestor, make_store

WRITES = ("add", "upsert", "update", "delete", "modify")
COUNTED = ("chunks", "docs")  # the sentence cache is never wrong, only possibly unused

Write = tuple[int, str, str, str]  # (number, collection role, method, "ids" or "where")


class WriteCounter:
    """A ``TappedClient`` tap that numbers each write to the chunks or the manifest and hands it on."""

    def __init__(self, on_write: Callable[[Write], None] = lambda write: None) -> None:
        self.writes: list[Write] = []
        self.on_write = on_write

    def __call__(self, role: str, method: str, kwargs: dict[str, Any]) -> None:
        if method in WRITES and role in COUNTED:
            write = (len(self.writes) + 1, role, method, "where" if kwargs.get("where") else "ids")
            self.writes.append(write)
            self.on_write(write)


def ingest_counting(index_dir: Path, docs_dir: Path, counter: WriteCounter, batch: int) -> IngestReport:
    """Ingest ``docs_dir`` into ``index_dir`` with the fake embedder, every write passing through ``counter``."""
    store = make_store(index_dir, client=TappedClient(open_client(index_dir), after=counter))
    return make_ingestor(store, FakeEmbedder(), batch_chunks=batch).run(docs_dir)


def main() -> None:
    index_dir, docs_dir = Path(sys.argv[1]), Path(sys.argv[2])
    pause_after = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 256

    def show(write: Write) -> None:
        print("WRITE", *write, flush=True)
        if write[0] == pause_after:
            print("PAUSED", flush=True)
            while True:  # wait for SIGKILL
                time.sleep(60)

    counter = WriteCounter(show)
    report = ingest_counting(index_dir, docs_dir, counter, batch)
    print(f"DONE {len(counter.writes)} added={report.added} updated={report.updated}", flush=True)


if __name__ == "__main__":
    main()
