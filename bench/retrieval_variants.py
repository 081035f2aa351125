"""Retrieval-only comparison of retriever variants on an eval file (no answers composed).

    CITEBOT_INDEX_DIR=/tmp/mh-index python bench/retrieval_variants.py \
        /work/shared/eval/multihop-news/dev.jsonl [-k 4] [--out bench/results/variants.json]

Each variant changes one knob of HybridOptions from the defaults (or names a baseline), so the
table shows what each step gains. Query embeddings are computed once and reused by every variant.
Latency is measured warm per retrieval (after one warm-up query) and includes query embedding.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.evaluation.metrics import facts_found, hit_at_k, mean, percentile, recall_at_k, reciprocal_rank
from bot.evaluation.runner import load_items
from bot.retrieval.base import DenseRetriever, Retriever
from bot.retrieval.hybrid import HybridOptions, HybridRetriever
from bot.retrieval.keyword import KeywordIndex
from bot.services import Services
from bot.settings import load_settings


def variants(base: HybridOptions) -> dict[str, HybridOptions | str]:
    plain = replace(base, metadata_boost=0.0, doc_support=0.0, max_per_doc=0, cover_named=False, passage_choice=False)
    return {
        "dense (naive)": "dense",
        "bm25 only": replace(plain, dense_weight=0.0),
        "rrf dense+bm25": plain,
        "+ per-doc cap 1": replace(plain, max_per_doc=1),
        "+ cap 1, support, boost 0.3": replace(base, metadata_boost=0.3, cover_named=False, passage_choice=False),
        "+ boost 1.0": replace(base, cover_named=False, passage_choice=False),
        "+ boost 1.0 + passage choice": replace(base, cover_named=False),
        "default (+ coverage of named publishers)": base,
        "default, passage dense 0": replace(base, passage_dense=0.0),
        "default, passage dense 2": replace(base, passage_dense=2.0),
        "default, boost 0.3": replace(base, metadata_boost=0.3),
        "default, boost 1.5": replace(base, metadata_boost=1.5),
        "default, cap 2": replace(base, max_per_doc=2),
        "default, bm25 weight 3": replace(base, keyword_weight=3.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("-k", type=int, default=4)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", help="comma-separated variant names")
    args = parser.parse_args()
    items = [i for i in load_items(args.file) if not i.unanswerable and i.sources]
    settings = load_settings()
    services = Services(settings)
    store = services.ready_store()
    embedder = services.answer_embedder  # remembers vectors: variants do not re-embed the questions
    embedder.embed([i.question for i in items])
    keyword = KeywordIndex(store)
    keyword.refresh()
    base = HybridOptions.from_settings(settings)
    rows = []
    chosen = variants(base)
    if args.only:
        chosen = {n: v for n, v in chosen.items() if n in args.only.split(",")}
    for name, opts in chosen.items():
        retriever: Retriever = (
            DenseRetriever(store, embedder) if opts == "dense" else HybridRetriever(store, embedder, keyword, opts)
        )
        retriever.retrieve(items[0].question, 10)  # warm-up
        hits, recalls, rrs, facts, ms = [], [], [], [], []
        for item in items:
            t0 = time.perf_counter()
            top = retriever.retrieve(item.question, args.k)  # what the answer sees (as `citebot eval` asks)
            ms.append((time.perf_counter() - t0) * 1000)
            ranked = retriever.retrieve(item.question, 10)  # for MRR@10
            sources = [p.source for p in top]
            hits.append(hit_at_k(item.sources, sources, args.k))
            recalls.append(recall_at_k(item.sources, sources, args.k))
            rrs.append(reciprocal_rank(item.sources, [p.source for p in ranked], 10))
            facts.extend(facts_found(item.facts, [p.text for p in top]))
        row = {
            "variant": name,
            f"hit@{args.k}": mean(hits),
            f"recall@{args.k}": mean(recalls),
            "mrr@10": mean(rrs),
            f"fact_hit@{args.k}": mean(float(f) for f in facts),
            "p50_ms": statistics.median(ms),
            "p95_ms": percentile(ms, 95),
        }
        rows.append(row)
        print(
            f"{name:<28} " + " ".join(f"{k}={v:.3f}" for k, v in row.items() if isinstance(v, float)),
            flush=True,
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"k": args.k, "questions": len(items), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
