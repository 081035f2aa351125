"""Synthetic scale benchmark: ingest throughput, keyword-index build, query latency, peak memory.

    python bench/scale.py --chunks 100000 --mode random [--out bench/results/scale.json]
    python bench/scale.py --chunks 2000 --mode model

``--mode random`` writes precomputed random unit vectors (384-d, like all-MiniLM-L6-v2) straight
into the Store, per document in the crash-safe order ingest uses, and embeds queries the same way:
it measures the store, the keyword index and fusion, not the model. ``--mode model`` runs the real
pipeline (files -> loaders -> chunker -> all-MiniLM-L6-v2 -> Store) and real query embeddings, which
on a 2-core CPU only suits a few thousand chunks. Text is Zipf-distributed pseudo-words, so BM25
postings have a realistic shape. Peak memory is the process's max RSS (resource.getrusage).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.evaluation.metrics import percentile
from bot.retrieval.base import DenseRetriever
from bot.retrieval.hybrid import HybridOptions, HybridRetriever
from bot.retrieval.keyword import KeywordIndex
from ingest.index.chroma_client import open_client
from ingest.index.manifest import DocRecord
from ingest.index.records import ChunkMeta, ChunkRow
from ingest.index.store import Store
from ingest.index.writes import chunk_id

DIM = 384


@contextmanager
def chroma_server(path: Path, timeout: float = 60) -> Iterator[tuple[str, int]]:
    """A `chroma run` server on a free 127.0.0.1 port for the duration of the benchmark."""
    exe = Path(sys.executable).parent / "chroma"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("chroma server did not start") from None
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


PUBLISHERS = ["Harbour Post", "Valley Times", "The Daily Lens", "Metro Wire", "Coast Herald"]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ter", "an", "vo", "si", "ru", "pel", "dra", "no", "qui", "ba", "zen", "tor"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def sentence(vocab: list[str], cum_weights: list[float], rng: random.Random) -> str:
    return " ".join(rng.choices(vocab, cum_weights=cum_weights, k=rng.randint(8, 20))).capitalize() + "."


def chunk_text(vocab: list[str], weights: list[float], rng: random.Random) -> str:
    text = ""
    while len(text) < 600:
        text += sentence(vocab, weights, rng) + " "
    return text.strip()


class RandomEmbedder:
    """Deterministic pseudo-random unit vectors per text: stands in for the model in --mode random."""

    name = "random"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for t in texts:
            r = random.Random(int(hashlib.md5(t.encode()).hexdigest(), 16))
            v = [r.gauss(0, 1) for _ in range(DIM)]
            n = sum(x * x for x in v) ** 0.5
            out.append([x / n for x in v])
        return out


def ingest_random(store: Store, docs: list[list[str]], embedder: RandomEmbedder) -> None:
    for d, texts in enumerate(docs):
        source = f"doc{d:06d}.txt"
        content_hash = hashlib.sha256("".join(texts).encode()).hexdigest()
        publisher, day = PUBLISHERS[d % len(PUBLISHERS)], f"2024-{1 + d % 12:02d}-{1 + d % 28:02d}"
        vectors = embedder.embed(texts)
        rows = [
            ChunkRow(
                chunk_id(source, content_hash, i),
                text,
                vec,
                ChunkMeta(
                    source=source,
                    title=f"Report {d}",
                    source_name=publisher,
                    date=day,
                    header=f"Report {d} | {publisher} | {day}",
                    chunk_index=i,
                    doc_hash=content_hash,
                    chunk_hash=f"{content_hash[:20]}{i}",
                ),
            )
            for i, (text, vec) in enumerate(zip(texts, vectors))
        ]
        store.writer.write_document(DocRecord(source, content_hash, 0, 0, len(rows), f"Report {d}"), rows)
    store.bump_generation()


def ingest_model(store: Store, docs: list[list[str]], folder: Path):
    from ingest.documents.chunking import Chunker, ChunkParams
    from ingest.embedding.embedder import SentenceTransformerEmbedder, token_counter
    from ingest.pipeline import Ingestor

    folder.mkdir(parents=True, exist_ok=True)
    for d, texts in enumerate(docs):
        head = f"Title: Report {d}\nSource: {PUBLISHERS[d % len(PUBLISHERS)]}\nPublished: 2024-01-{1 + d % 28:02d}\n\n"
        (folder / f"doc{d:06d}.txt").write_text(head + "\n\n".join(texts), encoding="utf-8")
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    Ingestor(store, embedder, Chunker(ChunkParams(), token_counter("all-MiniLM-L6-v2")), max_bytes=10**8).run(folder)
    return embedder


def timed(fn, queries: list[str], k: int) -> dict[str, float]:
    fn(queries[0], k)
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q, k)
        ms.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--mode", choices=["random", "model"], default="random")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--per-doc", type=int, default=20, help="chunks per synthetic document")
    parser.add_argument("--dir", type=Path, help="index folder (default: a temporary one)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--server", action="store_true", help="store the index in a `chroma run` server on 127.0.0.1")
    parser.add_argument(
        "--query-only",
        action="store_true",
        help="reuse the index already in --dir (same --chunks/--per-doc); time queries",
    )
    args = parser.parse_args()
    if args.server:
        with chroma_server(Path(tempfile.mkdtemp(prefix="citebot-scale-server-"))) as (host, port):
            run(args, open_client(host=host, port=port))
    else:
        run(args, None)


def run(args: argparse.Namespace, client: object | None) -> None:
    rng = random.Random(7)
    vocab = vocabulary(30_000, rng)
    weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(vocab))))
    n_docs = max(1, args.chunks // args.per_doc)
    t0 = time.perf_counter()
    docs = [[chunk_text(vocab, weights, rng) for _ in range(args.per_doc)] for _ in range(n_docs)]
    gen_s = time.perf_counter() - t0
    work = args.dir or Path(tempfile.mkdtemp(prefix="citebot-scale-"))
    store = Store(client or open_client(work / "index"), "scale", {"embed_model": args.mode}, create=True)
    t0 = time.perf_counter()
    embedder: object
    if args.query_only:
        embedder = RandomEmbedder()
    elif args.mode == "model":
        embedder = ingest_model(store, docs, work / "docs")
    else:
        embedder = RandomEmbedder()
        ingest_random(store, docs, embedder)
    ingest_s = time.perf_counter() - t0
    total = n_docs * args.per_doc
    cache_dir = None if client else work / "index" / "keyword"  # a server deployment rebuilds in memory
    keyword = KeywordIndex(store, cache_dir)
    t0 = time.perf_counter()
    keyword.refresh()
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    KeywordIndex(store, cache_dir).refresh()
    cache_load_s = time.perf_counter() - t0
    queries = []
    for _ in range(args.queries):
        words = rng.choice(rng.choice(docs)).split()
        start = rng.randrange(max(1, len(words) - 8))
        queries.append(" ".join(words[start : start + 8]) + " " + rng.choice(PUBLISHERS))
    hybrid = HybridRetriever(store, embedder, keyword, HybridOptions())
    dense = DenseRetriever(store, embedder)
    result = {
        "store": "server" if client else "embedded",
        "mode": args.mode,
        "chunks": total,
        "documents": n_docs,
        "generate_s": round(gen_s, 1),
        "ingest_s": round(ingest_s, 1),
        "ingest_chunks_per_s": round(total / ingest_s, 1),
        "keyword_build_s": round(build_s, 1),
        "keyword_cache_load_s": round(cache_load_s, 2),
        "hybrid_query": timed(hybrid.retrieve, queries, 4),
        "dense_query": timed(dense.retrieve, queries, 4),
        "keyword_query": timed(lambda q, k: keyword.search(q, 50), queries, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
