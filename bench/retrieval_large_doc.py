"""Benchmark: retrieval latency when a huge document (a changelog of about 1,600 chunks) is among the hits.

    .venv/bin/python bench/retrieval_large_doc.py [--index DIR] [--old-passages FILE] [--repeat 3]

Builds (once, into --index) an index of the techdocs corpus plus one changelog of about 1,600
chunks (pydantic's HISTORY.md and two copies of it with the version numbers moved on, so the text
differs), then times warm retrievals of the techdocs questions in one process, with this
checkout's passage choice and, given --old-passages (bot/retrieval/passages.py of another
checkout, e.g. the base of this branch), with that one, alternating question by question so load
changes hit both alike. Also reports Hit@4 / MRR@10 of both (they must not move). Writes
bench/results/retrieval_large_doc.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TECHDOCS = ROOT.parent / "shared" / "eval" / "techdocs"
sys.path.insert(0, str(ROOT))

import bot.retrieval.hybrid as hybrid  # noqa: E402  (after the path: run as a script from anywhere)
from bot.evaluation.metrics import percentile  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import load_settings  # noqa: E402

BIG = "pydantic/CHANGELOG-ALL.md"


def build(index: Path) -> None:
    """The techdocs corpus plus one changelog of about 1,600 chunks, ingested with the real model."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(TECHDOCS / "corpus", docs)
        history = (TECHDOCS / "corpus" / "pydantic" / "HISTORY.md").read_text(encoding="utf-8")

        def moved(text: str, by: int) -> str:  # v2.5.1 -> v4.5.1: the same kind of text, other words
            return re.sub(r"\bv?(\d+)\.(\d+)", lambda m: f"v{int(m.group(1)) + by}.{m.group(2)}", text)

        (docs / BIG).write_text("\n\n".join([history, moved(history, 2), moved(history, 4)]), encoding="utf-8")
        started = time.perf_counter()
        report = Services(load_settings(index_dir=index)).ingest(docs)
        print(f"built {index}: {report.chunks} chunks in {time.perf_counter() - started:.0f}s", flush=True)


def load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hit_at_4(items: list[dict[str, Any]], got: list[list[str]]) -> float:
    """Share of answerable questions with a gold document among the 4 passages."""
    answerable = [(i, g) for i, g in zip(items, got) if i.get("sources")]
    found = sum(any(s.startswith(tuple(i["sources"])) for s in g) for i, g in answerable)
    return round(found / max(1, len(answerable)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/citebot-bench-large-doc"))
    parser.add_argument("--old-passages", type=Path, help="another checkout's bot/retrieval/passages.py")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval_large_doc.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.index.exists():
        build(args.index)
    services = Services(load_settings(index_dir=args.index))
    store = services.ready_store()
    size = store.manifest.chunk_counts([BIG]).get(BIG, 0)
    items = [json.loads(line) for line in (TECHDOCS / "questions.jsonl").read_text().splitlines() if line.strip()]
    variants = {"this checkout": hybrid.choose_passages}
    if args.old_passages:
        variants["old passage choice"] = load_module(args.old_passages, "old_passages").choose_passages
    retriever = services.retriever
    for item in items[:3]:  # warm: model, keyword index, Chroma's caches
        retriever.retrieve(item["question"], 4)
    times: dict[str, list[float]] = {name: [] for name in variants}
    big_times: dict[str, list[float]] = {name: [] for name in variants}
    sources: dict[str, list[list[str]]] = {name: [] for name in variants}
    load = [round(os.getloadavg()[0], 2)]
    for _ in range(args.repeat):
        for item in items:
            for name, choose in variants.items():
                hybrid.choose_passages = choose  # the retriever looks it up in its module at each call
                started = time.perf_counter()
                passages = retriever.retrieve(item["question"], 4)
                ms = (time.perf_counter() - started) * 1000
                times[name].append(ms)
                if any(p.source == BIG for p in passages):
                    big_times[name].append(ms)
                if len(sources[name]) < len(items):
                    sources[name].append([p.source for p in passages])
    load.append(round(os.getloadavg()[0], 2))
    results: dict[str, Any] = {"big_document_chunks": size, "questions": len(items), "load": load}
    for name in variants:
        big = big_times[name]
        results[name] = {
            "p50_ms": round(statistics.median(times[name]), 1),
            "p95_ms": round(percentile(times[name], 95), 1),
            "with_big_doc_in_hits": len(big) // args.repeat,
            "with_big_doc_p50_ms": round(statistics.median(big), 1) if big else None,
            "with_big_doc_p95_ms": round(percentile(big, 95), 1) if big else None,
            "hit_at_4": hit_at_4(items, sources[name]),
        }
        print(f"{name}: {json.dumps(results[name])}")
    print(f"big document: {size} chunks; load average before/after: {load}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
