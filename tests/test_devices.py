"""Choosing the ingest encoder for a device: backends, precisions, batch sizes, and one-line errors with the fix."""

from __future__ import annotations

import pytest

from bot import components
from bot.errors import ConfigError
from bot.services import Services
from bot.settings import load_settings
from ingest.embedding.devices import CPU_BATCH, GPU_BATCH, check_device, choose_encoder
from ingest.embedding.onnx_encoder import OnnxEmbedder, export_path
from ingest.embedding.torch_encoder import TorchEmbedder
from ingest.errors import IngestError


def test_the_cpu_runs_onnx_in_float32_with_small_batches():
    choice = choose_encoder("cpu", "auto", None, poolable=True)
    assert (choice.backend, choice.precision, choice.batch_size) == ("onnx", "fp32", CPU_BATCH)
    assert choice.pools_sentences
    assert choose_encoder("cpu", "int8", 8, poolable=True).precision == "int8"


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mps"])
def test_a_gpu_runs_torch_in_half_precision_with_large_batches(device):
    choice = choose_encoder(device, "auto", None, poolable=True)
    assert (choice.backend, choice.device, choice.precision, choice.batch_size) == ("torch", device, "fp16", GPU_BATCH)
    assert choose_encoder(device, "fp32", 256, poolable=True).batch_size == 256


def test_a_model_that_cannot_be_pooled_runs_on_sentence_transformers():
    choice = choose_encoder("cuda", "auto", None, poolable=False)
    assert (choice.backend, choice.precision) == ("sentence-transformers", "fp32")
    assert not choice.pools_sentences


@pytest.mark.parametrize(
    ("device", "precision", "poolable", "names"),
    [
        ("cuda", "int8", True, "CITEBOT_EMBED_DEVICE=cpu"),
        ("cpu", "fp16", True, "CITEBOT_EMBED_DEVICE=cuda"),
        ("cpu", "int8", False, "fp32"),
        ("tpu", "auto", True, "cuda:N"),
        ("cpu", "bf16", True, "auto, fp32, fp16, int8"),
    ],
)
def test_impossible_combinations_are_one_line_errors_naming_the_fix(device, precision, poolable, names):
    with pytest.raises(IngestError) as err:
        choose_encoder(device, precision, None, poolable=poolable)
    assert names in str(err.value) and "\n" not in str(err.value)


def test_a_gpu_this_machine_lacks_is_a_one_line_error_before_any_work():
    def no_cuda(device: str) -> str | None:
        return "torch 2.13.0+cpu cannot use a CUDA GPU (a CPU-only build); install a CUDA build of torch"

    with pytest.raises(IngestError, match=r"CITEBOT_EMBED_DEVICE=cuda: torch .* install a CUDA build"):
        check_device("cuda", no_cuda)
    check_device("cuda", lambda device: None)  # a usable device passes

    embedder = TorchEmbedder("all-MiniLM-L6-v2", "cuda", half=True, batch_size=1024, device_problem=no_cuda)
    with pytest.raises(IngestError, match="install a CUDA build"):
        embedder.embed(["a question"])  # the device is checked before torch or the model is loaded


def test_services_pick_the_encoder_from_the_settings(tmp_path):
    gpu = Services(load_settings(embed_device="cuda:0", index_dir=tmp_path / "i")).encoder_choice
    assert (gpu.backend, gpu.device, gpu.precision, gpu.batch_size) == ("torch", "cuda:0", "fp16", GPU_BATCH)
    fp32 = Services(load_settings(embed_device="cuda", embed_precision="fp32", embed_batch_size=64)).encoder_choice
    assert (fp32.precision, fp32.batch_size) == ("fp32", 64)
    cpu = Services(load_settings(embed_precision="int8")).encoder_choice
    assert (cpu.backend, cpu.precision, cpu.batch_size) == ("onnx", "int8", CPU_BATCH)
    with pytest.raises(IngestError, match="runs on the CPU only"):
        _ = Services(load_settings(embed_device="cuda", embed_precision="int8")).encoder_choice


@pytest.mark.parametrize(
    ("env", "value"),
    [("CITEBOT_EMBED_DEVICE", "gpu"), ("CITEBOT_EMBED_PRECISION", "fp8"), ("CITEBOT_INGEST_BATCH", "0")],
)
def test_bad_device_settings_are_one_line_errors(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=env):
        load_settings()


def test_int8_embeds_the_chunks_while_questions_and_answer_sentences_stay_float(tmp_path):
    s = load_settings(embed_precision="int8", cache_dir=tmp_path / "cache", sentence_cache=True)
    for precision in ("fp32", "int8"):
        path = export_path(s.cache_dir, s.embed_model, precision)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")  # stands for the export: nothing is loaded here
    query = components.query_embedder(s, components.encoder_choice(s), lambda: None)  # type: ignore[arg-type,return-value]
    assert isinstance(query, OnnxEmbedder) and query.onnx_file == export_path(s.cache_dir, s.embed_model)
    assert not components.caches_sentences(s)  # int8 sentence vectors would reorder what answers quote
    assert components.caches_sentences(load_settings(sentence_cache=True))
