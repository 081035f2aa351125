"""The embedding model on onnxruntime: the encoder ingest and questions run on, without torch.

Loading torch and sentence-transformers costs seconds and hundreds of megabytes; onnxruntime runs
the same model faster on a CPU. The model is exported once (ingest/embedding/onnx_export.py, where torch is
needed), checked to give the sentence-transformers vectors, and cached under ``CITEBOT_CACHE_DIR``.
Ingest embeds chunks with it (pooling each chunk's sentences from the same pass, see
ingest/embedding/encoder.py) and a one-shot `citebot ask` embeds the question with it.

Only models whose pooling is a plain mean of token embeddings (all-MiniLM-L6-v2 and most
sentence-transformers models) are exported; others keep the torch path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.embedding.embedder import resolve_model
from ingest.embedding.encoder import PoolingEmbedder, model_config

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: Bumped when the export changes shape; v2: eager attention, fused by onnxruntime's transformer optimizer.
EXPORT_VERSION = 2
#: Texts of full length per batch on the CPU (shorter ones are packed up to the same number of tokens).
#: 16 x 256 tokens: as fast as larger batches on two cores, and onnxruntime's arena stays under 200 MB.
CPU_BATCH = 16


def _stem(model: str) -> str:
    slug = hashlib.sha1(resolve_model(model).encode("utf-8")).hexdigest()[:12]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(model).name)[:40]
    return f"{safe}-{slug}"


def export_path(cache_dir: Path, model: str, precision: str = "fp32") -> Path:
    """Where the export of ``model`` in ``precision`` (fp32, int8) lives under ``cache_dir``."""
    suffix = "" if precision == "fp32" else f"-{precision}"
    return cache_dir / "onnx" / f"{_stem(model)}-v{EXPORT_VERSION}{suffix}.onnx"


def find_export(cache_dir: Path, model: str, precision: str = "fp32") -> Path | None:
    """The cached export to run, or None: the current one, else (fp32) one made by an older citebot."""
    current = export_path(cache_dir, model, precision)
    if current.is_file():
        with contextlib.suppress(OSError):  # marks it used (a read-only cache is fine): see prune_exports
            os.utime(current)
        return current
    legacy = cache_dir / "onnx" / f"{_stem(model)}.onnx"  # v1: plain export, still verified and exact
    return legacy if precision == "fp32" and legacy.is_file() else None


#: Exports of one model kept in the cache: this install's and the most recently used others'.
KEEP_EXPORTS = 3


def prune_exports(cache_dir: Path, model: str, keep: int = KEEP_EXPORTS) -> int:
    """Delete the exports of ``model`` made for other installs (each install path has its own, 90 MB for
    all-MiniLM-L6-v2), but this one's and the most recently used others', ``keep`` in all; bytes freed."""
    mine = _stem(model)
    safe = mine.rsplit("-", 1)[0]
    by_stem: dict[str, list[Path]] = {}
    for path in (cache_dir / "onnx").glob(f"{safe}-*.onnx"):
        stem = path.name[len(safe) + 1 :].split("-", 1)[0].removesuffix(".onnx")
        if len(stem) == 12 and all(c in "0123456789abcdef" for c in stem):  # not another model's similar name
            by_stem.setdefault(stem, []).append(path)
    others = sorted(
        (s for s in by_stem if f"{safe}-{s}" != mine),
        key=lambda s: max(p.stat().st_mtime for p in by_stem[s]),
        reverse=True,
    )
    freed = 0
    for stem in others[max(0, keep - 1) :]:
        for path in by_stem[stem]:
            with contextlib.suppress(OSError):
                size = path.stat().st_size
                path.unlink()
                freed += size
    return freed


def exportable(model: str) -> bool:
    """True when ``model`` is a local mean-pooling model with a fast tokenizer (it can run on onnxruntime)."""
    model_dir = Path(resolve_model(model))
    return model_dir.is_dir() and (model_dir / "tokenizer.json").is_file() and model_config(model_dir)[0]


class OnnxBackend:
    """One onnxruntime session of an export; returns pooled rows of the last token states."""

    def __init__(self, onnx_file: Path, threads: int | None = None) -> None:
        import onnxruntime as ort  # here: a cold `citebot --help` must not load it

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        # Between two runs the pool's threads sleep instead of spinning, leaving the cores to the
        # tokenizer and the index writes of the same ingest.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Batches come in many shapes (length buckets): a memory plan cached per shape only holds memory.
        options.enable_mem_pattern = False
        self.name = onnx_file.name
        self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def pooled(self, ids: np.ndarray, mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
        import numpy as np

        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return np.matmul(weights, states)  # [batch, rows, tokens] @ [batch, tokens, dim]


class OnnxEmbedder(PoolingEmbedder):
    """Embeds with onnxruntime; vectors equal the sentence-transformers model's (mean pooled, normalised).

    Loads on first use and is safe to share between threads. ``embed_spans`` also returns the
    vectors of spans (a chunk's sentences) from the same pass.
    """

    def __init__(self, model: str, onnx_file: Path, threads: int | None = None, *, batch_size: int = CPU_BATCH) -> None:
        super().__init__(model, batch_size)
        self.onnx_file = onnx_file
        self._threads = threads

    def _backend(self, model_dir: Path) -> OnnxBackend:
        return OnnxBackend(self.onnx_file, self._threads)
