"""Benchmark: ingest a synthetic corpus of N chunks on a GPU (or any device) and print chunks/s.

Called by bench/gpu_ingest.sh after it installed a CUDA build of torch; runs anywhere:

    python bench/gpu_ingest.py --chunks 100000 --device cuda            # the GPU benchmark
    python bench/gpu_ingest.py --chunks 300 --device cpu --skip-model   # a smoke test on a CPU

Prints, in order (each line flushed, so a run cut short still reports what it measured):
  1. the model alone on the device: chunks/s of full-length chunks (256 word pieces) at each
     precision, beside this model's ceiling on an H200 (about 6,000/s fp32, 39,000/s fp16);
  2. the full `citebot ingest` of the synthetic folder (chunking, embedding with sentence vectors
     pooled on the device, writing to the embedded Chroma store): chunks/s end to end.
Writes bench/results/gpu_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services import Services  # noqa: E402  (after the path: run as a script from anywhere)
from bot.settings import load_settings  # noqa: E402
from ingest.embedding.torch_encoder import TorchEmbedder  # noqa: E402
from ingest.report import IngestProgress  # noqa: E402

MODEL = "all-MiniLM-L6-v2"
WORDS = (
    "river market council school harbour energy farmer budget station museum bridge storm league doctor railway "
    "festival glacier copper orchard tunnel senate lantern vaccine harvest engine village signal ferry quarry"
).split()
#: Paragraphs of about 110 word pieces (with the overlap, about 4 chunks per 5 paragraphs at the default size).
PARAGRAPH_WORDS = 80
CHUNKS_PER_FILE = 50


def paragraph(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(PARAGRAPH_WORDS)]
    sentences = [" ".join(words[i : i + 16]).capitalize() + "." for i in range(0, len(words), 16)]
    return f"Entry {n}. " + " ".join(sentences)


def write_corpus(folder: Path, chunks: int, seed: int = 1) -> int:
    """About ``chunks`` chunks of text in files of CHUNKS_PER_FILE chunks; returns the number of files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = max(1, -(-chunks // CHUNKS_PER_FILE))
    per_file = max(1, chunks // files)
    for f in range(files):
        paras = [paragraph(rng, f * 1000 + p) for p in range(per_file * 5 // 4)]  # about 4 chunks per 5 paragraphs
        (folder / f"report{f:05d}.txt").write_text(f"Title: Report {f}\n\n" + "\n\n".join(paras) + "\n")
    return files


def model_alone(device: str, precision: str, texts: list[str], batch: int) -> float:
    """Chunks per second of the model by itself on ``device`` (after a warm-up batch)."""
    embedder = TorchEmbedder(MODEL, device, half=precision == "fp16", batch_size=batch)
    embedder.embed(texts[:batch])
    started = time.perf_counter()
    embedder.embed(texts)
    if device.startswith("cuda"):
        import torch  # here: only a GPU run needs it, and torch is loaded by now

        torch.cuda.synchronize()
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=1024, help="texts per model batch (CITEBOT_EMBED_BATCH_SIZE)")
    parser.add_argument("--ingest-batch", type=int, default=4096, help="chunks per write (CITEBOT_INGEST_BATCH)")
    parser.add_argument("--model-texts", type=int, default=20_000, help="chunks embedded by the model-only test")
    parser.add_argument("--skip-model", action="store_true", help="only the end-to-end ingest")
    parser.add_argument("--keep", type=Path, help="keep the corpus and index in this folder")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu_ingest.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

    work = args.keep or Path(tempfile.mkdtemp(prefix="citebot-gpu-bench-"))
    results: dict[str, Any] = {"device": args.device, "chunks_asked": args.chunks}
    try:
        docs = work / "docs"
        started = time.perf_counter()
        files = write_corpus(docs, args.chunks)
        print(f"corpus: {files} files for about {args.chunks:,} chunks in {time.perf_counter() - started:.1f}s")

        if not args.skip_model:
            words = " ".join(WORDS * 40)
            texts = [f"{i} {words}" for i in range(args.model_texts)]  # each truncated at 256 word pieces
            for precision in ("fp16", "fp32") if args.device != "cpu" else ("fp32",):
                rate = model_alone(args.device, precision, texts, args.batch)
                results[f"model_{precision}_chunks_per_s"] = round(rate)
                line = f"model alone, {precision}, batch {args.batch}, 256 word pieces: {rate:,.0f} chunks/s"
                print(line, flush=True)

        settings = load_settings(
            embed_device=args.device,
            embed_batch_size=args.batch,
            ingest_batch=args.ingest_batch,
            index_dir=work / "index",
            cache_dir=work / "cache",
        )
        last = [0.0]

        def progress(p: IngestProgress) -> None:
            now = time.perf_counter()
            if now - last[0] >= 10:
                last[0] = now
                rate = p.chunks_written / (now - started)
                done = f"{p.files_done:,}/{p.files_total:,} files, {p.chunks_written:,} chunks"
                print(f"  {done}, {rate:,.0f} chunks/s", flush=True)

        started = time.perf_counter()
        report = Services(settings).ingest(docs, progress=progress)
        wall = time.perf_counter() - started
        results["ingest"] = {**report.to_json(), "wall_s": round(wall, 1), "chunks_per_s": round(report.chunks / wall)}
        print(
            f"citebot ingest on {args.device}: {report.chunks:,} chunks ({report.sentences_embedded:,} sentences) "
            f"in {wall:.1f}s = {report.chunks / wall:,.0f} chunks/s end to end",
            flush=True,
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
