"""Benchmark: many one-sentence files (issue 13, item 12): how long the store takes, and what progress shows.

    .venv/bin/python bench/small_files.py [--files 5000] [--model] [--code DIR]

Writes N one-sentence files and ingests them into a new embedded index. Without ``--model`` the
embedder is a hash of the words (no model work), so the time is the pipeline's own: reading,
chunking and, above all, the store calls; the store's share is timed method by method. ``--model``
adds a run with the real model (ONNX, sentence vectors pooled). ``--code DIR`` runs another
checkout's ingest on the same files (for a before/after in the same run; its store is timed as a
whole, its progress callback is not called the same way). Prints a table, writes
bench/results/small_files.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = "river market council school harbour energy farmer budget station museum bridge storm league doctor".split()

_RUN = """
import hashlib, json, math, sys, time
from collections import Counter
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ingest.documents.chunking import Chunker, ChunkParams
from ingest.embedding.embedder import token_counter
from ingest.pipeline import Ingestor
from ingest.index.store import Store
from ingest.index.chroma_client import open_client

class Words:
    name = "hashed-words"
    def embed(self, texts):
        out = []
        for t in texts:
            v = [0.0] * 64
            for w in t.lower().split():
                h = int(hashlib.md5(w.encode()).hexdigest(), 16)
                v[h % 64] += 1.0
            n = math.sqrt(sum(x * x for x in v)) or 1.0
            out.append([x / n for x in v])
        return out

spent = Counter()
calls = Counter()
by_call = Counter()
class Timed:
    def __init__(self, inner, role):
        self._inner = inner
        self._role = role
    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr
        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return attr(*a, **k)
            finally:
                spent["store"] += time.perf_counter() - t
                calls[name] += 1
                by_call[self._role + "." + name] += time.perf_counter() - t
        return timed

class Client:
    def __init__(self, inner):
        self._inner = inner
    def __getattr__(self, name):
        return getattr(self._inner, name)
    def get_collection(self, name, **k):
        return Timed(self._inner.get_collection(name, **k), name.rsplit("-", 1)[-1])
    def get_or_create_collection(self, name, **k):
        return Timed(self._inner.get_or_create_collection(name, **k), name.rsplit("-", 1)[-1])

docs, index = Path(sys.argv[2]), Path(sys.argv[3])
store = Store(Client(open_client(index)), "bench", {"embed_model": "hashed-words"}, create=True)
ingestor = Ingestor(store, Words(), Chunker(ChunkParams(), token_counter("all-MiniLM-L6-v2")), max_bytes=10**7)
events = []
def progress(*args):
    events.append(time.perf_counter())
started = time.perf_counter()
try:
    report = ingestor.run(docs, progress=progress)
except TypeError:  # an older checkout without progress
    report = ingestor.run(docs)
wall = time.perf_counter() - started
print(json.dumps({"wall_s": round(wall, 2), "store_s": round(spent["store"], 2), "store_calls": sum(calls.values()),
                  "chunks": report.chunks, "added": report.added, "progress_events": len(events),
                  "by_call": {k: round(v, 2) for k, v in by_call.most_common(6)}}))
"""


def write_notes(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        words = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(9))
        (folder / f"note{i:05d}.txt").write_text(f"Note {i} says that the {words} met on day {i}.\n")


def run(code: Path, docs: Path, index: Path) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(code)}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(code), str(docs), str(index)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def with_model(docs: Path, index: Path) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "CITEBOT_INDEX_DIR": str(index)}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(docs), "--json"], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    report = json.loads(proc.stdout)
    wall = round(time.perf_counter() - started, 2)
    return {"wall_s": wall, "pipeline_s": report["seconds"], "chunks": report["chunks"]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--model", action="store_true", help="also ingest with the real model")
    parser.add_argument("--code", type=Path, help="another checkout to run on the same files (before/after)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "small_files.json")
    args = parser.parse_args(argv)
    results: dict[str, object] = {"files": args.files}
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        write_notes(docs, args.files)
        rows = []
        if args.code:
            load = os.getloadavg()[0]
            other = run(args.code, docs, Path(tmp) / "index-other")
            results["other"] = {**other, "load": load}
            rows.append((f"{args.code.name} (hashed words)", other, load))
        load = os.getloadavg()[0]
        ours = run(ROOT, docs, Path(tmp) / "index-ours")
        results["ours"] = {**ours, "load": load}
        rows.append(("this checkout (hashed words)", ours, load))
        if args.model:
            load = os.getloadavg()[0]
            real = with_model(docs, Path(tmp) / "index-model")
            results["model"] = {**real, "load": load}
            print(
                f"with the model: {real['chunks']} chunks in {real['wall_s']} s wall "
                f"({real['pipeline_s']} s pipeline), load {load:.2f}"
            )
    for name, r, load in rows:
        print(
            f"{name}: {r['added']} files, {r['wall_s']} s in all, {r['store_s']} s in {r['store_calls']} store calls, "
            f"{r['progress_events']} progress events, load {load:.2f}; slowest calls: {r.get('by_call')}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
