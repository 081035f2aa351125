"""Making the ONNX export of the embedding model: once per machine, verified, optionally quantised to int8.

Exporting needs torch, and quantising holds the graph twice. ``ensure_export`` without a reference
model, and ``ensure_quantized``, do their work in a child process (``python -m
ingest.embedding.onnx_export MODEL CACHE_DIR [int8]``), so the ingest that asks for them never loads
torch and its memory stays that of an ingest (the child's peak is its own, and gone when it exits).

The export uses eager attention, which onnxruntime's transformer optimizer fuses into its own
attention, layer-norm and GELU kernels (faster on a CPU), and is kept only if it gives the
sentence-transformers model's vectors on a few probes.

``ensure_quantized`` derives an int8 copy (dynamic quantisation, per channel) from the verified
export: smaller and faster, not exact. bench/README.md has its retrieval and answer metrics.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ingest.embedding.embedder import Embedder, SentenceTransformerEmbedder, cosine, resolve_model
from ingest.embedding.onnx_encoder import OnnxEmbedder, export_path, exportable, prune_exports

log = logging.getLogger(__name__)
#: What a user is told once, as it happens (the CLI shows it at its default level, without "warning:").
notices = logging.getLogger("citebot.notices")

#: Texts both encoders embed to check an export; a cosine below the bound discards it.
_PROBES = (
    "why did BlackBerry leave Pakistan?",
    "Sea anemones close into tight blobs when the tide goes out.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "1234 5678 !!! ??? — a line of symbols, numbers & punctuation",
)
_MIN_COSINE = 0.9999
#: int8 weights move vectors a little; more than this means a broken quantisation, not rounding.
_MIN_COSINE_INT8 = 0.97
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds the ingest package


def ensure_export(model: str, cache_dir: Path, reference: Embedder | None = None) -> Path | None:
    """Export ``model`` to ONNX under ``cache_dir`` once, verified against ``reference``; None if not possible.

    Without ``reference`` the export runs in a child process against the sentence-transformers
    model, so this process never imports torch.
    """
    target = export_path(cache_dir, model)
    if target.is_file():
        return target
    if not exportable(model):
        return None
    if reference is None:
        return _export_in_child(model, cache_dir)
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp")  # one per process: concurrent exports don't clash
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _export(Path(resolve_model(model)), tmp)
        worst = _agreement(OnnxEmbedder(model, tmp, threads=1), reference)
        if worst < _MIN_COSINE:
            log.warning("ONNX export of %s differs from the model (cosine %.6f); not used", model, worst)
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, target)  # atomic: readers never see a half-written file
        log.info("cached an ONNX encoder for %s at %s", model, target)
        freed = prune_exports(cache_dir, model)
        if freed:
            log.info("removed the exports other installs have not used lately (%.0f MB)", freed / 1e6)
        return target
    except Exception as exc:  # export is an optimisation: never fail the ingest for it
        log.warning("could not export %s to ONNX (%s: %s); using torch", model, type(exc).__name__, exc)
        tmp.unlink(missing_ok=True)
        return None


def ensure_quantized(model: str, cache_dir: Path, *, in_child: bool = True) -> Path | None:
    """The int8 copy of the verified export (made once, in a child process unless ``in_child`` is False); None
    when there is no export or quantising fails."""
    source = export_path(cache_dir, model)
    target = export_path(cache_dir, model, "int8")
    if target.is_file():
        return target
    if in_child:
        return _export_in_child(model, cache_dir, "int8")
    if not source.is_file():
        return None
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp")
    try:
        import onnx  # here: only quantising needs the graph tools
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(source),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # the fused ops carry no type information
        )
        worst = _agreement(OnnxEmbedder(model, tmp, threads=1), OnnxEmbedder(model, source, threads=1))
        if worst < _MIN_COSINE_INT8:
            log.warning("int8 copy of %s strays too far from it (cosine %.4f); not used", model, worst)
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, target)
        log.info("cached an int8 ONNX encoder for %s at %s (worst probe cosine %.4f)", model, target, worst)
        return target
    except Exception as exc:  # like the export, an optimisation
        log.warning("could not quantise %s (%s: %s)", model, type(exc).__name__, exc)
        tmp.unlink(missing_ok=True)
        return None


def _agreement(candidate: Embedder, reference: Embedder) -> float:
    """The worst cosine between the two encoders' vectors of the probes (embedded as one padded batch)."""
    ours, theirs = candidate.embed(_PROBES), reference.embed(_PROBES)
    return min(cosine(x, y) for x, y in zip(ours, theirs))


def _export_in_child(model: str, cache_dir: Path, precision: str = "fp32") -> Path | None:
    """Make the export (and with ``int8`` its quantised copy) in a new Python process: torch and the graph
    tools load there, not here."""
    paths = [str(_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    what = "an ONNX export" if precision == "fp32" else "an int8 copy of its ONNX export"
    notices.info("preparing %s for this machine's CPU: %s, made once and kept in %s", model, what, cache_dir)
    fallback = "; using torch" if precision == "fp32" else ""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ingest.embedding.onnx_export", model, str(cache_dir), precision],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not make %s of %s (%s)%s", what, model, exc, fallback)
        return None
    target = export_path(cache_dir, model, precision)
    if proc.returncode != 0 or not target.is_file():
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        log.warning("could not make %s of %s (%s)%s", what, model, lines[-1] if lines else proc.returncode, fallback)
        return None
    return target


def _export(model_dir: Path, target: Path) -> None:
    """Export the model's last token states to ``target``, fused for onnxruntime where its optimizer can."""
    import warnings

    import torch  # here: the export is the one place ingest needs torch
    from transformers import AutoModel

    try:  # eager attention exports as plain ops, which the optimizer recognises and fuses
        model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    except (TypeError, ValueError):
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
    raw = target.with_name(target.name + ".raw")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden(model),
                (sample, sample, torch.zeros_like(sample)),
                str(raw),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        _fuse(raw, target, model.config)
    finally:
        raw.unlink(missing_ok=True)


def _fuse(raw: Path, target: Path, config: Any) -> None:
    """Fuse attention, layer norms and GELU with onnxruntime's transformer optimizer (else keep the plain export)."""
    try:
        from onnxruntime.transformers import optimizer

        fused = optimizer.optimize_model(
            str(raw),
            model_type="bert",
            num_heads=int(getattr(config, "num_attention_heads", 0)),
            hidden_size=int(getattr(config, "hidden_size", 0)),
        )
        fused.save_model_to_file(str(target))
    except Exception as exc:  # an architecture the optimizer does not know: the plain export is still right
        log.info("kept the unfused ONNX export (%s: %s)", type(exc).__name__, exc)
        os.replace(raw, target)


def main(argv: list[str]) -> int:
    """``python -m ingest.embedding.onnx_export MODEL CACHE_DIR [fp32|int8]``: make the verified export, and with
    ``int8`` its quantised copy (exit 1 if it cannot)."""

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    model, cache_dir = argv[0], Path(argv[1])
    precision = argv[2] if len(argv) > 2 else "fp32"
    # the reference model loads on first use: only when there is a new export to check against it
    if ensure_export(model, cache_dir, SentenceTransformerEmbedder(model)) is None:
        return 1
    return 0 if precision == "fp32" or ensure_quantized(model, cache_dir, in_child=False) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
