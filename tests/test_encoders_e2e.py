"""The real model on every ingest encoder: ONNX (fp32, int8), torch, the export in a child process, the CLI."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.embedding.devices import check_device
from ingest.embedding.embedder import SentenceTransformerEmbedder, cosine
from ingest.embedding.onnx_encoder import OnnxEmbedder, export_path, find_export
from ingest.embedding.onnx_export import ensure_export, ensure_quantized
from ingest.embedding.torch_encoder import TorchEmbedder
from ingest.errors import IngestError
from ingest.index.sentence_cache import chunk_sentences

pytestmark = pytest.mark.e2e
MODEL = "all-MiniLM-L6-v2"
ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "The tide pool dries out at noon. Anemones close up and wait for the water to return to them.",
    "BlackBerry refused to give the Pakistani government a backdoor to its BES servers. "
    "The weather in the valley was mild that year and the apple harvest came early.",
    "A heat pump moves heat from cold outdoor air into the house. " * 30,  # truncated at 256 pieces
    "ok",
]


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(MODEL)


@pytest.fixture(scope="module")
def onnx_file(reference, shared_cache_dir) -> Path:
    path = ensure_export(MODEL, shared_cache_dir, reference)
    assert path is not None and path == export_path(shared_cache_dir, MODEL)
    return path


@pytest.fixture(scope="module")
def shared_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("encoders-cache")


def test_onnx_batches_give_the_models_vectors_and_sentences_pooled_in_context(onnx_file, reference):
    onnx = OnnxEmbedder(MODEL, onnx_file, batch_size=2)  # small batches: several, of different widths
    ours, theirs = onnx.embed(TEXTS), reference.embed(TEXTS)
    for a, b in zip(ours, theirs, strict=True):
        assert cosine(a, b) > 0.9999
    plans = [chunk_sentences(t, t) for t in TEXTS[:2]]
    results = onnx.embed_spans(TEXTS[:2], [p.spans for p in plans])
    for text, plan, result in zip(TEXTS, plans, results):
        assert cosine(result.vector, reference.embed([text])[0]) > 0.9999  # the chunk's own vector is unchanged
        for sentence, vector in zip(plan.texts, result.spans, strict=True):
            assert vector is not None
            alone = reference.embed([sentence])[0]
            assert 0.5 < cosine(vector, alone) < 0.9999  # the same sentence, read in its chunk
    # In context, a sentence takes on some of its chunk's topic: the unrelated weather sentence comes
    # closer to a BlackBerry question than it is alone, while the BlackBerry sentence stays itself.
    question = reference.embed(["Why did BlackBerry leave Pakistan?"])[0]
    (bb,) = [r for r, t in zip(results, TEXTS) if "BlackBerry" in t]
    bb_alone, weather_alone = reference.embed(plans[1].texts)
    assert cosine(bb.spans[0], bb_alone) > 0.9
    assert cosine(question, bb.spans[1]) > cosine(question, weather_alone) + 0.2


def test_int8_copy_is_close_to_fp32_and_made_once(onnx_file, shared_cache_dir):
    path = ensure_quantized(MODEL, shared_cache_dir)
    assert path == export_path(shared_cache_dir, MODEL, "int8") and path.stat().st_size < onnx_file.stat().st_size / 2
    mtime = path.stat().st_mtime_ns
    assert ensure_quantized(MODEL, shared_cache_dir) == path and path.stat().st_mtime_ns == mtime
    fp32, int8 = OnnxEmbedder(MODEL, onnx_file).embed(TEXTS), OnnxEmbedder(MODEL, path).embed(TEXTS)
    agreement = [cosine(a, b) for a, b in zip(fp32, int8)]
    assert min(agreement) > 0.93 and sum(agreement) / len(agreement) > 0.97  # close, not equal: an approximation
    assert find_export(shared_cache_dir, MODEL, "int8") == path


def test_torch_encoder_pools_like_the_onnx_one(onnx_file, reference):
    torch_encoder = TorchEmbedder(MODEL, "cpu", half=False, batch_size=2)
    onnx = OnnxEmbedder(MODEL, onnx_file)
    plans = [chunk_sentences(t, t) for t in TEXTS]
    for a, b, plain in zip(
        torch_encoder.embed_spans(TEXTS, [p.spans for p in plans]),
        onnx.embed_spans(TEXTS, [p.spans for p in plans]),
        reference.embed(TEXTS),
        strict=True,
    ):
        assert cosine(a.vector, b.vector) > 0.9999 and cosine(a.vector, plain) > 0.9999
        for x, y in zip(a.spans, b.spans, strict=True):
            assert (x is None) == (y is None)
            if x is not None and y is not None:
                assert cosine(x, y) > 0.9999


def test_cuda_on_a_cpu_only_torch_names_the_fix():
    with pytest.raises(IngestError) as err:
        check_device("cuda")
    message = str(err.value)
    assert "CITEBOT_EMBED_DEVICE=cuda" in message and "install a CUDA build of torch" in message
    assert "\n" not in message


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The CLI's environment: an index in ``tmp_path``, the session's shared cache unless ``extra`` says otherwise."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "CITEBOT_INDEX_DIR": str(tmp_path / "idx"),
        **extra,
    }


def test_ingest_exports_in_a_child_and_never_loads_torch_itself(tmp_path, docs_dir):
    probe = (
        "import sys, runpy\n"
        f"sys.argv=['citebot','ingest',{str(docs_dir)!r},'--json']\n"
        "try:\n runpy.run_module('bot.cli', run_name='__main__')\nexcept SystemExit: pass\n"
        "print('TORCH', 'torch' in sys.modules, file=sys.stderr)\n"
    )
    env = env_for(  # no export yet: ingest must make one; sentence vectors pooled from the same ONNX pass
        tmp_path,
        CITEBOT_CACHE_DIR=str(tmp_path / "cache"),
        CITEBOT_SENTENCE_CACHE="true",
        CITEBOT_SENTENCE_VECTORS="pooled",
    )
    run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=600)
    assert "TORCH False" in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if "preparing" in line]  # told once why this run is slower
    assert len(said) == 1 and said[0].startswith(f"preparing {MODEL} for this machine's CPU: an ONNX export,"), said
    report = json.loads(run.stdout)
    assert report["added"] == 5 and report["embedded"] == report["chunks"] > 0 and report["sentences_embedded"] > 0
    assert export_path(tmp_path / "cache", MODEL).is_file()


def test_cuda_on_this_machine_is_one_line_and_leaves_the_index_alone(tmp_path, docs_dir):
    cli = [sys.executable, "-m", "bot.cli", "ingest", str(docs_dir)]
    first = subprocess.run(cli, env=env_for(tmp_path), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    run = subprocess.run(
        [*cli, "--rebuild"], env=env_for(tmp_path, CITEBOT_EMBED_DEVICE="cuda"), capture_output=True, text=True
    )
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "install a CUDA build of torch" in run.stderr
    search = subprocess.run(
        [sys.executable, "-m", "bot.cli", "search", "sourdough starter", "--json"],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(search.stdout)["passages"], "the failed --rebuild cleared the index"


def read_pty(cmd: list[str], env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    """Run ``cmd`` with stdout and stderr on a pseudo-terminal; its exit code and everything it drew."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=follower, stderr=follower, env={**env, "COLUMNS": "160"}, cwd=ROOT)
    os.close(follower)
    out = b""
    deadline = time.monotonic() + timeout
    poller = select.poll()  # not select(): a long test session holds descriptors past its limit of 1024
    poller.register(leader, select.POLLIN)
    while time.monotonic() < deadline:
        if poller.poll(1000):
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=30), out.decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_and_not_with_json(tmp_path, docs_dir):
    env = env_for(tmp_path, CITEBOT_INGEST_BATCH="2")
    code, drawn = read_pty([sys.executable, "-m", "bot.cli", "ingest", str(docs_dir)], env)
    assert code == 0, drawn
    assert "ingesting" in drawn and "files" in drawn and "chunks" in drawn
    assert "-:--:--" not in drawn  # no ETA placeholder: an ETA shows only once there is a rate (not in 1 s)
    code, drawn = read_pty([sys.executable, "-m", "bot.cli", "ingest", str(docs_dir), "--rebuild", "--json"], env)
    assert code == 0
    assert "ingesting" not in drawn and json.loads(drawn[drawn.index("{") :])["added"] == 5


def test_an_int8_index_answers_with_int8_and_refuses_float_queries_in_one_line(tmp_path, docs_dir):
    int8 = env_for(tmp_path, CITEBOT_EMBED_PRECISION="int8")
    ingest = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(docs_dir), "--json"], env=int8, capture_output=True, text=True
    )
    assert ingest.returncode == 0, ingest.stderr
    ask = [sys.executable, "-m", "bot.cli", "ask", "How often does a sourdough starter need feeding?"]
    answered = subprocess.run(ask, env=int8, capture_output=True, text=True, timeout=300)
    assert answered.returncode == 0 and "[1]" in answered.stdout, answered.stderr
    refused = subprocess.run(ask, env=env_for(tmp_path), capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "set CITEBOT_EMBED_PRECISION=int8, or run `citebot ingest --rebuild`" in refused.stderr
