"""Which encoder runs the model at ingest, on which device, in which precision and batch size.

On the CPU the verified ONNX export runs on onnxruntime (float32, or int8 when asked); on a GPU
the model runs on torch in half precision with large batches. Both pool each chunk's sentences
from the same pass. A model that is not a plain mean-pooling model with a fast tokenizer runs on
sentence-transformers instead (and its sentences are embedded in a second pass).

Impossible combinations, and a device this machine does not have, are one-line errors naming
the fix, raised before any work starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ingest.embedding.onnx_encoder import CPU_BATCH as ONNX_CPU_BATCH
from ingest.errors import IngestError

#: Full-length texts per embedding batch: small on a CPU (onnx_encoder.CPU_BATCH), large on a GPU (to fill it).
CPU_BATCH = ONNX_CPU_BATCH
GPU_BATCH = 1024
PRECISIONS = ("auto", "fp32", "fp16", "int8")
DEVICE_PATTERN = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")

Backend = Literal["onnx", "torch", "sentence-transformers"]


@dataclass(frozen=True)
class EncoderChoice:
    """How ingest runs the model."""

    backend: Backend
    device: str
    precision: Literal["fp32", "fp16", "int8"]
    batch_size: int

    @property
    def pools_sentences(self) -> bool:
        """True when the sentence vectors come from the chunk pass (no second model run)."""
        return self.backend != "sentence-transformers"


def is_gpu(device: str) -> bool:
    return device != "cpu"


def choose_encoder(device: str, precision: str, batch_size: int | None, *, poolable: bool) -> EncoderChoice:
    """The encoder for these settings; raises IngestError (with the fix) for a combination that cannot run.

    Args:
        device: CITEBOT_EMBED_DEVICE (cpu, cuda, cuda:N, mps).
        precision: CITEBOT_EMBED_PRECISION (auto: fp16 on a GPU, fp32 on the CPU).
        batch_size: CITEBOT_EMBED_BATCH_SIZE, or None for the device's default.
        poolable: the model is a mean-pooling model with a fast tokenizer (ingest/onnx_encoder.exportable).
    """
    if not DEVICE_PATTERN.match(device):
        raise IngestError(f"CITEBOT_EMBED_DEVICE={device!r} is not a device; use cpu, cuda, cuda:N or mps")
    if precision not in PRECISIONS:
        raise IngestError(f"CITEBOT_EMBED_PRECISION={precision!r}: use one of {', '.join(PRECISIONS)}")
    gpu = is_gpu(device)
    if precision == "int8" and gpu:
        raise IngestError(
            "CITEBOT_EMBED_PRECISION=int8 runs on the CPU only (onnxruntime); use fp16 or fp32 on a GPU, "
            "or set CITEBOT_EMBED_DEVICE=cpu"
        )
    if precision == "fp16" and not gpu:
        raise IngestError("CITEBOT_EMBED_PRECISION=fp16 needs a GPU (CITEBOT_EMBED_DEVICE=cuda); use fp32 or int8")
    if not poolable and precision in ("fp16", "int8"):
        raise IngestError(
            f"CITEBOT_EMBED_PRECISION={precision} needs a mean-pooling model with a tokenizer.json "
            "(all-MiniLM-L6-v2 is one); use fp32 with this model"
        )
    chosen: Literal["fp32", "fp16", "int8"] = "fp32"
    if precision == "auto":
        chosen = "fp16" if gpu and poolable else "fp32"
    elif precision in ("fp16", "int8"):
        chosen = "fp16" if precision == "fp16" else "int8"
    backend: Backend = ("torch" if gpu else "onnx") if poolable else "sentence-transformers"
    return EncoderChoice(backend, device, chosen, batch_size or (GPU_BATCH if gpu else CPU_BATCH))


def check_device(device: str, probe: Callable[[str], str | None] | None = None) -> None:
    """Raise IngestError naming the fix when torch cannot use ``device`` on this machine.

    ``probe`` returns why a device is unusable (None when it is usable); the default asks torch.
    """
    problem = (probe or torch_device_problem)(device)
    if problem:
        raise IngestError(f"CITEBOT_EMBED_DEVICE={device}: {problem}")


def torch_device_problem(device: str) -> str | None:
    """Why torch cannot use ``device`` here, with the fix; None when it can."""
    import torch  # here: only a GPU ingest asks, and it loads torch anyway

    if device == "cpu":
        return None
    if device == "mps":
        if torch.backends.mps.is_available():
            return None
        return "this machine has no Apple GPU for torch; set CITEBOT_EMBED_DEVICE=cpu"
    if not torch.cuda.is_available():
        build = f"torch {torch.__version__}"
        why = "a CPU-only build" if torch.version.cuda is None else "no CUDA GPU is visible"
        return (
            f"{build} cannot use a CUDA GPU ({why}); install a CUDA build of torch "
            "(pip install torch --index-url https://download.pytorch.org/whl/cu126) or set CITEBOT_EMBED_DEVICE=cpu"
        )
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        return f"there are {torch.cuda.device_count()} CUDA GPU(s) here (cuda:0..); pick one of them"
    return None
