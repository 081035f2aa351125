"""The ONNX query encoder gives the torch model's vectors without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.embedding.embedder import SentenceTransformerEmbedder
from ingest.embedding.onnx_encoder import OnnxEmbedder, export_path, exportable
from ingest.embedding.onnx_export import ensure_export

pytestmark = pytest.mark.e2e
MODEL = "all-MiniLM-L6-v2"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, SentenceTransformerEmbedder]:
    cache = tmp_path_factory.mktemp("onnx-cache")
    torch_embedder = SentenceTransformerEmbedder(MODEL)
    path = ensure_export(MODEL, cache, torch_embedder)
    assert path is not None and path == export_path(cache, MODEL) and path.is_file()
    return path, torch_embedder


def test_vectors_and_rankings_match_the_torch_model(exported):
    path, torch_embedder = exported
    onnx = OnnxEmbedder(MODEL, path)
    texts = [
        "The tide pool dries out at noon.",
        "BlackBerry refused to give the government a backdoor to BES servers.",
        "A heat pump moves heat from cold outdoor air into the house. " * 30,  # truncated at 256 pieces
        "ok",
    ]
    ours, theirs = onnx.embed(texts), torch_embedder.embed(texts)
    for a, b in zip(ours, theirs, strict=True):
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.9999
    query = onnx.embed(["why did BlackBerry leave Pakistan?"])[0]
    query_t = torch_embedder.embed(["why did BlackBerry leave Pakistan?"])[0]

    def ranking(q, vectors):
        return sorted(range(len(vectors)), key=lambda i: -sum(x * y for x, y in zip(q, vectors[i], strict=True)))

    assert ranking(query, ours) == ranking(query_t, theirs)


def test_export_is_reused(exported, tmp_path):
    path, torch_embedder = exported
    mtime = path.stat().st_mtime_ns
    assert ensure_export(MODEL, path.parent.parent, torch_embedder) == path
    assert path.stat().st_mtime_ns == mtime


def test_models_without_mean_pooling_are_not_exported(tmp_path):
    model_dir = tmp_path / "cls-model"
    (model_dir / "1_Pooling").mkdir(parents=True)
    (model_dir / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (model_dir / "tokenizer.json").write_text("{}")
    assert not exportable(str(model_dir))
    assert exportable(MODEL)


def test_cold_ask_uses_onnx_without_torch_and_gives_the_same_answer(tmp_path, docs_dir):
    env = {**os.environ, "CITEBOT_INDEX_DIR": str(tmp_path / "idx"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(docs_dir)], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert export_path(Path(os.environ["CITEBOT_CACHE_DIR"]), MODEL).is_file()
    probe = (
        "import sys, json, runpy\n"
        "sys.argv=['citebot','ask','why did BlackBerry leave Pakistan?','--json']\n"
        "try:\n runpy.run_module('bot.cli', run_name='__main__')\nexcept SystemExit: pass\n"
        "print('TORCH', 'torch' in sys.modules, file=sys.stderr)\n"
    )
    fast = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert "TORCH False" in fast.stderr, fast.stderr
    slow = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "CITEBOT_QUERY_ENCODER": "torch"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "TORCH True" in slow.stderr
    a, b = json.loads(fast.stdout), json.loads(slow.stdout)
    assert a["answer"] == b["answer"]
    assert [p["chunk_id"] for p in a["passages"]] == [p["chunk_id"] for p in b["passages"]]
