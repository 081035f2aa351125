"""Mean-pooled embeddings from token states: length-bucketed batches, chunk and sentence vectors in one pass.

A sentence-transformers model such as all-MiniLM-L6-v2 embeds a text as the mean of its last
token states, normalised. ``PoolingEncoder`` computes that from any backend that returns token
states (ONNX on the CPU, torch on a GPU: ``TokenBackend``) and, in the same pass, the mean of the
token states over spans of the text: the sentences of a chunk. Those sentence vectors are read in
context (the chunk around them shapes their tokens' states), which is what the answerer compares
questions with; they cost no second model run.

Texts are tokenized once, sorted by length and cut into batches of similar length with a budget
of padded tokens, so short texts do not pay for a long one's padding and a batch of one-line files
holds hundreds of them.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ingest.embedding.embedder import resolve_model

if TYPE_CHECKING:
    import numpy as np

#: A character span ``(start, end)`` inside a text.
Span = tuple[int, int]


class TokenBackend(Protocol):
    """Runs the model: padded token ids and mask -> pooled rows ``weights @ states`` per text."""

    name: str

    def pooled(self, ids: np.ndarray, mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``ids``/``mask``: [batch, tokens] int64; ``weights``: [batch, rows, tokens] float32 -> [batch, rows, dim]."""
        ...


@dataclass(frozen=True)
class Encoded:
    """A text's vector and the vectors of the spans asked for (None where a span lies past the model's window)."""

    vector: list[float]
    spans: list[list[float] | None]


#: What one backend call costs beyond its tokens, in padded tokens (about 3.5 ms against 0.15 ms a token for
#: MiniLM on a 2-core CPU): splitting a batch pays when it saves more padding than this.
CALL_COST_TOKENS = 24


def bucket(lengths: Sequence[int], max_tokens: int, max_texts: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped by length: each group holds at most ``max_texts`` texts and pads to at most
    ``max_tokens`` tokens in all (a text longer than the budget gets a group of its own).

    Within those bounds the cut is the cheapest: fewest padded tokens plus ``CALL_COST_TOKENS`` a group. The
    sentences an answer embeds (10 to 95 tokens each) cost 30% less cut in two or three groups than padded as one.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    n = len(order)
    cost = [0.0] + [float("inf")] * n  # cost[j]: the cheapest cut of the j shortest texts
    start = [0] * (n + 1)  # where the last group of that cut starts
    for j in range(1, n + 1):
        width = lengths[order[j - 1]]  # ascending: the longest of any group ending here sets its padded width
        for i in range(j - 1, max(-1, j - 1 - max_texts), -1):
            size = j - i
            if size > 1 and size * width > max_tokens:
                break
            c = cost[i] + size * width + CALL_COST_TOKENS
            if c < cost[j]:
                cost[j], start[j] = c, i
    groups: list[list[int]] = []
    j = n
    while j > 0:
        groups.append(order[start[j] : j])
        j = start[j]
    return groups[::-1]


class TokenMap:
    """Where each word piece of one encoded text lies in the text (special tokens left out)."""

    def __init__(self, offsets: Sequence[tuple[int, int]], special: Sequence[int]) -> None:
        kept = [(i, o) for i, (o, s) in enumerate(zip(offsets, special)) if not s]
        self.positions = [i for i, _ in kept]
        self.starts = [o[0] for _, o in kept]
        self.ends = [o[1] for _, o in kept]

    def tokens(self, span: Span) -> list[int] | None:
        """Token positions covering the character ``span``; None if it runs past the last token read (truncated)."""
        start, end = span
        if not self.ends or end > self.ends[-1] or end <= start:
            return None
        lo = bisect_right(self.ends, start)  # first piece ending after the span starts
        hi = bisect_left(self.starts, end)  # first piece starting at or after the span's end
        return self.positions[lo:hi] or None


class PoolingEncoder:
    """Embeds texts, and spans inside them, as mean-pooled, L2-normalised token states of one backend pass.

    Args:
        name: the model's name as the index records it.
        tokenizer_file: the model's ``tokenizer.json``.
        max_len: word pieces the model reads (longer texts are truncated, as sentence-transformers does).
        backend: runs the model.
        batch_tokens: padded tokens per batch (the backend's memory and speed sweet spot).
        max_batch: most texts per batch, however short.
    """

    def __init__(
        self,
        name: str,
        tokenizer_file: Path,
        max_len: int,
        backend: TokenBackend,
        *,
        batch_tokens: int,
        max_batch: int,
    ) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.backend = backend
        self.max_len = max_len
        self.batch_tokens = batch_tokens
        self.max_batch = max_batch
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(max_len)
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts``; vectors are L2-normalised."""
        return [e.vector for e in self.embed_spans(texts, [()] * len(texts))]

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[Encoded]:
        """Embed ``texts`` and, from the same pass, each text's character ``spans`` (e.g. its sentences)."""
        import numpy as np  # here, like every numeric import: `citebot --help` never pays for it

        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        out: list[Encoded | None] = [None] * len(texts)
        for group in bucket(lengths, self.batch_tokens, self.max_batch):
            width = max(lengths[i] for i in group)
            maps = [TokenMap(encodings[i].offsets, encodings[i].special_tokens_mask) for i in group]
            picks = [[m.tokens(s) for s in spans[i]] for m, i in zip(maps, group)]
            rows = 1 + max(len(p) for p in picks)
            ids = np.zeros((len(group), width), dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            weights = np.zeros((len(group), rows, width), dtype=np.float32)
            for r, i in enumerate(group):
                n = lengths[i]
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
                weights[r, 0, :n] = 1.0 / n  # the text: every token it read, specials included
                for s, tokens in enumerate(picks[r], 1):
                    if tokens:
                        weights[r, s, tokens] = 1.0 / len(tokens)
            pooled = _normalise(self.backend.pooled(ids, mask, weights))
            for r, i in enumerate(group):
                vectors = pooled[r]
                out[i] = Encoded(
                    vector=vectors[0].tolist(),
                    spans=[vectors[s].tolist() if tokens else None for s, tokens in enumerate(picks[r], 1)],
                )
        return [e for e in out if e is not None]


def _normalise(pooled: Any) -> np.ndarray:
    import numpy as np

    array = np.asarray(pooled, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.clip(norms, 1e-12, None)


def model_config(model_dir: Path) -> tuple[bool, int]:
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


class PoolingEmbedder:
    """An Embedder over a ``PoolingEncoder`` of the model ``name``, built on first use; safe to share between threads.

    Subclasses give the backend (``_backend``). Batches hold ``batch_size`` full-length texts' worth
    of tokens, and at most ``MAX_BATCH_FACTOR`` times as many short ones.
    """

    MAX_BATCH_FACTOR = 16

    def __init__(self, name: str, batch_size: int) -> None:
        self.name = name
        self.batch_size = batch_size
        self._encoder: PoolingEncoder | None = None
        self._lock = threading.Lock()

    def _backend(self, model_dir: Path) -> TokenBackend:
        raise NotImplementedError

    def _load(self) -> PoolingEncoder:
        with self._lock:
            if self._encoder is None:
                model_dir = Path(resolve_model(self.name))
                _, max_len = model_config(model_dir)
                self._encoder = PoolingEncoder(
                    self.name,
                    model_dir / "tokenizer.json",
                    max_len,
                    self._backend(model_dir),
                    batch_tokens=self.batch_size * max_len,
                    max_batch=self.batch_size * self.MAX_BATCH_FACTOR,
                )
            return self._encoder

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts``; vectors are L2-normalised."""
        return self._load().embed(texts) if texts else []

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[Encoded]:
        """Embed ``texts`` and the character ``spans`` of each (its sentences) in one pass."""
        return self._load().embed_spans(texts, spans) if texts else []
