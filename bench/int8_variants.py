"""Which int8 quantisation of the embedding model keeps retrieval: variants screened on every dev set.

Each variant is made from the verified fp32 ONNX export with onnxruntime's dynamic quantisation, then:

- its encoder speed: chunks per second over 256 real chunks of the multihop-news index, beside fp32,
  in the same run (the ingest's batch size and threads);
- on each dev set's index (bench/loco.py's /tmp/idx-<set>, built with fp32): every live chunk and every
  answerable question re-embedded with the variant, then dense retrieval alone (top distinct documents
  by cosine): Hit@4 and MRR@10 of the gold documents, beside the same with the index's own fp32 vectors;
  and the cosine of the variant's chunk vectors to the fp32 ones.

Dense retrieval alone is a screen, harsher than the product's hybrid retrieval (keyword scores and the
passage re-choice do not move with the model). The variant chosen here is then measured end to end
with `citebot eval` on int8 indexes (bench/README.md).

    PYTHONPATH=. .venv/bin/python bench/int8_variants.py [--variants a,b] [--sets techdocs,pydocs]

Writes bench/results/int8_variants.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loco import SETS
from bot.evaluation.metrics import matches
from bot.services import Services
from bot.settings import Settings
from ingest.embedding.onnx_encoder import OnnxEmbedder, find_export

ROOT = Path(__file__).resolve().parent.parent
MODEL = "all-MiniLM-L6-v2"
LAYERS = 6


def _layer_nodes(layer: int) -> list[str]:
    return [f"Attention_{layer}"] + [
        f"/inner/encoder/layer.{layer}/{part}/dense/MatMul" for part in ("attention/output", "intermediate", "output")
    ]


#: name -> quantize_dynamic keyword arguments (weights int8, activations quantised per call).
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {"per_channel": True, "reduce_range": True},  # what CITEBOT_EMBED_PRECISION=int8 makes today
    "full-range": {"per_channel": True, "reduce_range": False},
    "per-tensor": {"per_channel": False, "reduce_range": False},
    "matmul-only": {"per_channel": True, "reduce_range": False, "op_types_to_quantize": ["MatMul"]},
    "keep-ends": {
        "per_channel": True,
        "reduce_range": False,
        "nodes_to_exclude": _layer_nodes(0) + _layer_nodes(LAYERS - 1),
    },
    "ffn-only": {
        "per_channel": True,
        "reduce_range": False,
        "op_types_to_quantize": ["MatMul"],
        "nodes_to_exclude": [f"/inner/encoder/layer.{i}/attention/output/dense/MatMul" for i in range(LAYERS)],
    },
}


def quantise(source: Path, target: Path, options: dict[str, Any]) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        **options,
    )


def load_set(name: str) -> tuple[list[str], list[str], np.ndarray, list[tuple[str, list[str]]]]:
    """The live chunks of the set's index (texts, sources, fp32 vectors) and its answerable questions with gold."""
    services = Services(Settings(index_dir=Path(f"/tmp/idx-{name}")))
    collection = services.ready_store().collections.chunks
    got = collection.get(include=["documents", "metadatas", "embeddings"])
    keep = [i for i, m in enumerate(got["metadatas"]) if m.get("live", True)]
    texts = [got["documents"][i] for i in keep]
    sources = [str(got["metadatas"][i]["source"]) for i in keep]
    vectors = np.asarray([got["embeddings"][i] for i in keep], dtype=np.float32)
    questions_file = SETS[name][0]
    questions = []
    for line in questions_file.read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else {}
        if item.get("sources") and item.get("answers"):
            questions.append((item["question"], list(item["sources"])))
    return texts, sources, vectors, questions


def dense_metrics(
    chunks: np.ndarray, sources: list[str], queries: np.ndarray, gold: list[list[str]]
) -> dict[str, float]:
    """Hit@4 and MRR@10 over the top distinct documents by cosine."""
    scores = queries @ chunks.T
    hits, rr = [], []
    for row, wanted in zip(scores, gold):
        ranked: list[str] = []
        for i in np.argsort(-row):
            if sources[i] not in ranked:
                ranked.append(sources[i])
            if len(ranked) == 10:
                break
        hits.append(float(any(matches(g, r) for g in wanted for r in ranked[:4])))
        first = next((k for k, r in enumerate(ranked) if any(matches(g, r) for g in wanted)), None)
        rr.append(0.0 if first is None else 1.0 / (first + 1))
    return {"hit4": round(float(np.mean(hits)), 4), "mrr10": round(float(np.mean(rr)), 4)}


def speed(encoder: OnnxEmbedder, texts: list[str], repeats: int = 2) -> float:
    encoder.embed(texts[:16])  # load and warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        encoder.embed(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "int8_variants.json")
    args = parser.parse_args()
    source = find_export(Settings().cache_dir, MODEL)
    if source is None:
        sys.exit("no fp32 ONNX export yet: run `citebot ingest` once")
    sets = {name: load_set(name) for name in args.sets.split(",")}
    fp32 = OnnxEmbedder(MODEL, source)
    long_texts = sorted(sets.get("multihop-news", next(iter(sets.values())))[0], key=len)[-256:]
    results: dict[str, Any] = {"fp32": {"chunks_per_s": round(speed(fp32, long_texts), 1)}}
    queries32 = {n: np.asarray(fp32.embed([q for q, _ in s[3]]), dtype=np.float32) for n, s in sets.items()}
    for name, (_texts, sources, vectors, questions) in sets.items():
        results["fp32"][name] = dense_metrics(vectors, sources, queries32[name], [g for _, g in questions])
    print(json.dumps({"fp32": results["fp32"]}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            path = Path(tmp) / f"{variant}.onnx"
            quantise(source, path, VARIANTS[variant])
            encoder = OnnxEmbedder(MODEL, path)
            row: dict[str, Any] = {"chunks_per_s": round(speed(encoder, long_texts), 1)}
            row["speedup"] = round(row["chunks_per_s"] / results["fp32"]["chunks_per_s"], 2)
            for name, (texts, sources, vectors, questions) in sets.items():
                chunks = np.asarray(encoder.embed(texts), dtype=np.float32)
                queries = np.asarray(encoder.embed([q for q, _ in questions]), dtype=np.float32)
                cos = np.sum(chunks * vectors, axis=1) / (
                    np.linalg.norm(chunks, axis=1) * np.linalg.norm(vectors, axis=1) + 1e-12
                )
                row[name] = {
                    **dense_metrics(chunks, sources, queries, [g for _, g in questions]),
                    "cos_mean": round(float(cos.mean()), 4),
                    "cos_p01": round(float(np.percentile(cos, 1)), 4),
                }
            results[variant] = row
            print(json.dumps({variant: row}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
