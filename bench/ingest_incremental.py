"""Benchmark: is re-ingest proportional to what changed? (a script, not a test)

    python bench/ingest_incremental.py [CORPUS] [--out bench/results/ingest_incremental.json]

With the real embedding model (CITEBOT_EMBED_MODEL, default all-MiniLM-L6-v2) on a copy of CORPUS
(default ../shared/eval/multihop-news/corpus) in a temporary folder, it measures:
a full ingest, a re-ingest with nothing changed, one file edited, one file deleted.
Prints a table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from bot.services import Services
from bot.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpus",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "multihop-news" / "corpus",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ingest_incremental.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(args.corpus, docs)
        services = Services(load_settings(index_dir=Path(tmp) / "index", collection="bench-incremental"))
        started = time.perf_counter()
        services.embedder.embed(["warm up"])  # model load is not ingest time
        load_s = time.perf_counter() - started

        rows = []

        def step(name: str) -> None:
            t0 = time.perf_counter()
            report = services.ingest(docs)
            wall = time.perf_counter() - t0
            rows.append(
                {
                    "step": name,
                    "seconds": round(wall, 3),
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "removed": report.removed,
                    "chunks_written": report.chunks,
                    "embedded": report.embedded,
                    "chunks_per_s": round(report.chunks / wall, 1) if report.chunks else None,
                }
            )

        step("full ingest")
        step("nothing changed")
        edited = sorted(docs.iterdir())[len(list(docs.iterdir())) // 2]
        edited.write_text(edited.read_text(encoding="utf-8") + "\nA late correction was added to this article.\n")
        step(f"1 file edited ({edited.name})")
        victim = sorted(docs.iterdir())[0]
        victim.unlink()
        step(f"1 file deleted ({victim.name})")
        total_chunks = services.store().reader.count()

    full = rows[0]["seconds"]
    for row in rows:
        row["pct_of_full"] = round(100 * row["seconds"] / full, 2)
    result = {
        "corpus": str(args.corpus),
        "documents": rows[0]["added"],
        "chunks": total_chunks,
        "model": services.settings.embed_model,
        "device": services.settings.embed_device,
        "model_load_s": round(load_s, 2),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "python": platform.python_version(),
        "steps": rows,
    }
    print(f"{'step':<34} {'wall s':>8} {'% full':>7} {'embedded':>9} {'written':>8} {'chunks/s':>9}")
    for row in rows:
        print(
            f"{row['step']:<34} {row['seconds']:>8.2f} {row['pct_of_full']:>7.2f} {row['embedded']:>9} "
            f"{row['chunks_written']:>8} {row['chunks_per_s'] or '':>9}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out} (load average {result['load_avg'][0]:.1f} on {result['cpus']} CPUs)")


if __name__ == "__main__":
    main()
