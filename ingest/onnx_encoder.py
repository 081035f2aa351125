"""A torch-free query encoder: the same sentence-transformers model exported to ONNX.

Loading torch and sentence-transformers costs seconds; a one-shot `citebot ask` only needs to
embed a question and a few dozen sentences. The export is made once (at ingest, where torch is
loaded anyway), checked to give the same vectors as the torch model, and cached in the index
folder. At query time it runs on onnxruntime with the model's own fast tokenizer.

Only models whose pooling is a plain mean of token embeddings (all-MiniLM-L6-v2 and most
sentence-transformers models) are exported; others keep the torch path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.embedder import Embedder, cosine, resolve_model

log = logging.getLogger(__name__)

#: Texts both encoders embed to check the export; a cosine below the bound discards it.
_PROBES = (
    "why did BlackBerry leave Pakistan?",
    "Sea anemones close into tight blobs when the tide goes out.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "1234 5678 !!! ??? — a line of symbols, numbers & punctuation",
)
_MIN_COSINE = 0.9999
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_path(cache_dir: Path, model: str) -> Path:
    """Where the export of ``model`` lives under ``cache_dir``."""
    slug = hashlib.sha1(resolve_model(model).encode("utf-8")).hexdigest()[:12]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(model).name)[:40]
    return cache_dir / "onnx" / f"{safe}-{slug}.onnx"


def _model_config(model_dir: Path) -> tuple[bool, int]:
    """(mean pooling?, max sequence length) from the sentence-transformers model folder."""
    pooling = model_dir / "1_Pooling" / "config.json"
    mean = False
    if pooling.is_file():
        cfg = json.loads(pooling.read_text())
        mean = bool(cfg.get("pooling_mode_mean_tokens")) and not any(
            cfg.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_lasttoken")
        )
    max_len = 256
    st_cfg = model_dir / "sentence_bert_config.json"
    if st_cfg.is_file():
        max_len = int(json.loads(st_cfg.read_text()).get("max_seq_length", max_len))
    return mean, max_len


def exportable(model: str) -> bool:
    """True when ``model`` is a local mean-pooling model with a fast tokenizer."""
    model_dir = Path(resolve_model(model))
    return model_dir.is_dir() and (model_dir / "tokenizer.json").is_file() and _model_config(model_dir)[0]


class OnnxEmbedder:
    """Embeds with onnxruntime; vectors equal the sentence-transformers model's (mean pooled, normalised)."""

    def __init__(self, model: str, onnx_file: Path, threads: int | None = None) -> None:
        self.name = model
        self.onnx_file = onnx_file
        self._threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                model_dir = Path(resolve_model(self.name))
                _, max_len = _model_config(model_dir)
                tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
                tokenizer.enable_truncation(max_len)
                tokenizer.enable_padding()
                options = ort.SessionOptions()
                options.intra_op_num_threads = self._threads or min(4, os.cpu_count() or 1)
                options.log_severity_level = 3
                self._session = ort.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` (batches of 32); vectors are L2-normalised."""
        import numpy as np

        if not texts:
            return []
        session, tokenizer = self._load()
        out: list[list[float]] = []
        for i in range(0, len(texts), 32):
            batch = tokenizer.encode_batch(list(texts[i : i + 32]))
            feed = {
                "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
            }
            hidden = session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.extend(pooled.tolist())
        return out


def ensure_export(model: str, cache_dir: Path, reference: Embedder) -> Path | None:
    """Export ``model`` to ONNX under ``cache_dir`` once, verified against ``reference``; None if not possible.

    Needs torch (and the ``onnx`` package); run where torch is loaded anyway, such as after an ingest.
    """
    target = export_path(cache_dir, model)
    if target.is_file():
        return target
    if not exportable(model):
        return None
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp")  # one per process: concurrent exports don't clash
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _export(Path(resolve_model(model)), tmp)
        candidate = OnnxEmbedder(model, tmp, threads=1)
        ours = candidate.embed(_PROBES)
        theirs = reference.embed(_PROBES)
        worst = min(cosine(x, y) for x, y in zip(ours, theirs))
        if worst < _MIN_COSINE:
            log.warning("ONNX export of %s differs from the model (cosine %.6f); not used", model, worst)
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, target)  # atomic: readers never see a half-written file
        log.info("cached an ONNX query encoder for %s at %s", model, target)
        return target
    except Exception as exc:  # export is an optimisation: never fail the ingest for it
        log.warning("could not export %s to ONNX (%s: %s); queries use torch", model, type(exc).__name__, exc)
        tmp.unlink(missing_ok=True)
        return None


def _export(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "seq"} for name in (*_INPUTS, "last_hidden_state")}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Hidden(model),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
