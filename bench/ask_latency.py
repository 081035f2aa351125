"""Benchmark: full ingest of a corpus, then `citebot ask` cold (new processes) and warm (one process).

Run by hand, never by the tests:

    .venv/bin/python bench/ask_latency.py [--corpus DIR] [--questions FILE] [--index DIR] [--cold 5] [--warm 50]

Prints a table and writes bench/results/ask_latency.json. The index folder is rebuilt only with --reingest
(or when it does not exist), so repeated runs measure the query side alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval" / "multihop-news"
sys.path.insert(0, str(ROOT))

from bot.evaluation.metrics import percentile  # noqa: E402  (after the path: run as a script from anywhere)

# Runs the CLI as the console script does, then reports that process's own peak RSS on stderr.
_LAUNCH = """
import atexit, resource, runpy, sys
atexit.register(lambda: sys.stderr.write("MAXRSS_KB %d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.argv = ["citebot", *sys.argv[1:]]
runpy.run_module("bot.cli", run_name="__main__")
"""


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one new `citebot` process."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _LAUNCH, *args], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"citebot {' '.join(args)} failed: {proc.stderr.strip()}")
    peak_kb = max(
        (int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB")), default=0
    )
    return wall, peak_kb / 1024, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--questions", type=Path, default=SHARED / "dev.jsonl")
    parser.add_argument("--index", type=Path, default=Path("/tmp/citebot-bench-index"))
    parser.add_argument("--reingest", action="store_true", help="rebuild the index first and time it")
    parser.add_argument("--cold", type=int, default=5, help="cold `ask` processes to time")
    parser.add_argument("--warm", type=int, default=50, help="warm questions to time in one process")
    args = parser.parse_args()

    env = {**os.environ, "CITEBOT_INDEX_DIR": str(args.index), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    os.environ.update({k: env[k] for k in ("CITEBOT_INDEX_DIR", "HF_HUB_OFFLINE")})
    results: dict[str, object] = {"corpus": str(args.corpus), "cpus": os.cpu_count()}

    if args.reingest or not args.index.exists():
        wall, peak, out = run_cli(["ingest", str(args.corpus), "--rebuild", "--json"], env)
        report = json.loads(out)
        results["ingest"] = {
            "wall_s": round(wall, 2),
            "pipeline_s": report["seconds"],
            "documents": report["added"],
            "chunks": report["chunks"],
            "chunks_per_s": round(report["chunks"] / report["seconds"], 1),
            "peak_rss_mb": round(peak),
        }

    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]

    cold = []
    cold_peak = 0.0
    for q in questions[: args.cold]:
        wall, peak, _ = run_cli(["ask", q, "--json"], env)
        cold.append(wall)
        cold_peak = max(cold_peak, peak)
    results["ask_cold"] = {
        "runs": len(cold),
        "p50_s": round(statistics.median(cold), 2),
        "max_s": round(max(cold), 2),
        "peak_rss_mb": round(cold_peak),
    }

    from bot.services import Services
    from bot.settings import load_settings

    services = Services(load_settings())
    services.ask(questions[0])  # load the model and open the index
    warm = []
    retrieve = []
    for q in questions[: args.warm]:
        start = time.perf_counter()
        answer = services.ask(q)
        warm.append((time.perf_counter() - start) * 1000)
        retrieve.append(answer.timings_ms.get("retrieve", 0.0))
    results["ask_warm"] = {
        "runs": len(warm),
        "p50_ms": round(percentile(warm, 50), 1),
        "p95_ms": round(percentile(warm, 95), 1),
        "retrieve_p50_ms": round(percentile(retrieve, 50), 1),
        "retrieve_p95_ms": round(percentile(retrieve, 95), 1),
    }

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ask_latency.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:10} {value}")


if __name__ == "__main__":
    main()
