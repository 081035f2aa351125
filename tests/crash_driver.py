"""Test driver for the kill tests: ingest a folder with the fake embedder, numbering every write.

    python tests/crash_driver.py INDEX_DIR DOCS_DIR [PAUSE_AFTER]

Each Chroma call that writes (add, upsert, update, delete, modify) prints ``WRITE <n> <collection>
<method>`` on stdout. With PAUSE_AFTER = n the driver prints ``PAUSED`` after the n-th write and
waits forever, so the test can kill it (SIGKILL) exactly between two writes. This hook lives
here, in test code: the production write path is untouched.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import FakeEmbedder
from tests.helpers import make_ingestor, make_store

WRITES = ("add", "upsert", "update", "delete", "modify")


class CountingCollection:
    """Forwards to a Chroma collection; numbers each write call and can pause after one."""

    counter = 0

    def __init__(self, inner: Any, role: str, pause_after: int) -> None:
        self._inner = inner
        self._role = role
        self._pause_after = pause_after

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in WRITES:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            CountingCollection.counter += 1
            kind = "where" if kwargs.get("where") else "ids"
            print(f"WRITE {CountingCollection.counter} {self._role} {name} {kind}", flush=True)
            if CountingCollection.counter == self._pause_after:
                print("PAUSED", flush=True)
                while True:  # wait for SIGKILL
                    time.sleep(60)
            return result

        return counted


def main() -> None:
    index_dir, docs_dir = Path(sys.argv[1]), Path(sys.argv[2])
    pause_after = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    store = make_store(index_dir)
    store._chunks = CountingCollection(store._chunks, "chunks", pause_after)
    store._docs = CountingCollection(store._docs, "docs", pause_after)
    report = make_ingestor(store, FakeEmbedder()).run(docs_dir)
    print(f"DONE {CountingCollection.counter} added={report.added} updated={report.updated}", flush=True)


if __name__ == "__main__":
    main()
