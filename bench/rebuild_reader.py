"""Benchmark: a reader keeps asking while `citebot ingest --rebuild` runs beside it (a script, not a test).

    python bench/rebuild_reader.py [CORPUS] [--questions FILE] [--out bench/results/rebuild_reader.json]

With the real model on a copy of CORPUS (default ../shared/eval/techdocs/corpus): ingest it, then
start `citebot ingest --rebuild` as a separate process and, in this one, ask the first questions of
FILE round-robin, back to back, until the rebuild ends and a few more after. Reported: the
rebuild's wall time, every question's outcome (answered, the same answer as before the rebuild,
an error) and latency, before, during and after, and when this long-running reader moved to the
new index. Before issue 13 the reader got "no documents are indexed yet" for minutes, then
answers from a half-built index, then an error on every question until restarted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.errors import USER_ERRORS
from bot.evaluation.metrics import percentile
from bot.services import Services
from bot.settings import load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "techdocs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=SHARED / "corpus")
    parser.add_argument("--questions", type=Path, default=SHARED / "questions.jsonl")
    parser.add_argument("--count", type=int, default=20, help="distinct questions asked round-robin")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "rebuild_reader.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    questions = questions[: args.count]

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(args.corpus, docs)
        env = {**os.environ, "CITEBOT_INDEX_DIR": str(Path(tmp) / "index"), "CITEBOT_DOCS_DIR": str(docs)}
        os.environ.update(env)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(docs)], check=True, env=env)
        first_ingest_s = time.perf_counter() - started

        reader = Services(load_settings())
        baseline = {q: reader.ask(q).text for q in questions}  # also warms the reader up
        rows: list[dict[str, object]] = []

        def ask(i: int, phase: str) -> None:
            q = questions[i % len(questions)]
            t0 = time.perf_counter()
            try:
                text, error = reader.ask(q).text, ""
            except USER_ERRORS as exc:
                text, error = "", str(exc)
            rows.append(
                {
                    "phase": phase,
                    "at_s": round(time.perf_counter() - started, 2),
                    "ms": round((time.perf_counter() - t0) * 1000, 1),
                    "same": text == baseline[q],
                    "error": error,
                    "rebuild": reader.store().rebuild,
                }
            )

        for i in range(len(questions)):
            ask(i, "before")
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", "--rebuild", str(docs)], env=env)
        i = 0
        while proc.poll() is None:
            ask(i, "during")
            i += 1
        rebuild_s = time.perf_counter() - started
        for j in range(len(questions)):
            ask(i + j, "after")

    summary: dict[str, object] = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "corpus": str(args.corpus),
        "first_ingest_s": round(first_ingest_s, 1),
        "rebuild_s": round(rebuild_s, 1),
        "rebuild_exit": proc.returncode,
    }
    for phase in ("before", "during", "after"):
        part = [r for r in rows if r["phase"] == phase]
        ms = [float(r["ms"]) for r in part]  # type: ignore[arg-type]
        summary[phase] = {
            "questions": len(part),
            "errors": sum(1 for r in part if r["error"]),
            "same_answer": sum(1 for r in part if r["same"]),
            "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(percentile(ms, 95), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
            "rebuild_numbers": sorted({int(r["rebuild"]) for r in part}),  # type: ignore[call-overload]
        }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
