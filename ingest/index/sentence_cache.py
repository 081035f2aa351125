"""Sentence vectors for the answerer: remembered, optionally cached in the index at ingest, else computed.

The extractive answerer and the citation checker compare the question with every sentence of the
retrieved passages. Embedding those ~40-80 sentences costs about 100 ms a question here; looking
them up costs a few. By default they are computed when answering (and remembered by a running
bot), which keeps ingest to one model pass per chunk. With ``CITEBOT_SENTENCE_CACHE`` they are
stored at ingest in ``<collection>-sentences``, keyed by the sentence's text, so entries are shared
by documents and survive renames; entries of deleted documents linger unused until ``--rebuild``.

Cached vectors are either each sentence embedded alone (``separate``: the vectors answers compute
otherwise, so the same answers) or pooled from the chunk pass itself when the encoder can pool
spans (``pooled``, see ``SpanEmbedder`` and ingest/embedding/encoder.py): the mean of the chunk's token
states over the sentence's tokens, no second model run. A pooled vector reads the sentence in its
context, which changes which sentences rank first: on the dev sets it moved answer accuracy and
abstention by 0.01-0.08 either way (bench/README.md), so it is not the default. A cache that
cannot be read or written costs speed only: one warning, and the sentences are embedded instead.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ingest.documents.sentences import passage_sentences
from ingest.embedding.embedder import Embedder
from ingest.embedding.encoder import Encoded, Span
from ingest.errors import StoreUnavailableError
from ingest.index.store import Store

log = logging.getLogger(__name__)

#: Sentences the answerer may quote are at least this many words long (bot/answering/evidence.py quotable()).
MIN_WORDS = 2


@runtime_checkable
class SpanEmbedder(Protocol):
    """An Embedder that also returns, from the same pass, vectors of character spans of each text."""

    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[Encoded]: ...


def sentence_key(text: str) -> str:
    """The cache key of one sentence (its normalised text)."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()[:32]


def quotable_sentences(texts: Iterable[str]) -> list[str]:
    """The sentences of these chunk texts worth caching (prose, not code), each once."""
    out: dict[str, None] = {}
    for text in texts:
        for sentence in passage_sentences(text):
            if len(sentence.text.split()) >= MIN_WORDS:
                out.setdefault(sentence.text, None)
    return list(out)


@dataclass(frozen=True)
class ChunkSentences:
    """The cacheable sentences of one chunk: their texts and where they lie in the text the model embeds."""

    texts: list[str]
    spans: list[Span]  # in the embedded text's coordinates; empty when the quoted text is not inside it


def chunk_sentences(text: str, embed_text: str) -> ChunkSentences:
    """The sentences of a chunk's quoted ``text`` worth caching, located in its ``embed_text`` (header + text)."""
    sentences = [s for s in passage_sentences(text) if len(s.text.split()) >= MIN_WORDS]
    shift = embed_text.find(text) if text else -1
    spans = [(s.start + shift, s.end + shift) for s in sentences] if shift >= 0 else []
    return ChunkSentences([s.text for s in sentences], spans)


@dataclass
class SentenceBatch:
    """Sentence vectors gathered from one batch of chunks, to be stored before those chunks become visible."""

    texts: dict[str, str] = field(default_factory=dict)  # key -> text, every cacheable sentence of the batch
    pooled: dict[str, list[float]] = field(default_factory=dict)  # key -> vector from the chunk pass

    def add(self, sentences: ChunkSentences, encoded: Encoded | None = None) -> None:
        """Note a chunk's sentences, with their pooled vectors when the chunk was just embedded."""
        for i, text in enumerate(sentences.texts):
            key = sentence_key(text)
            self.texts.setdefault(key, text)
            if encoded is not None and sentences.spans and i < len(encoded.spans):
                vector = encoded.spans[i]
                if vector is not None:
                    self.pooled.setdefault(key, vector)

    def save(self, store: Store, embedder: Embedder) -> int:
        """Store the batch's sentence vectors not cached yet (embedding alone those not pooled); returns how many."""
        if not self.texts:
            return 0
        have = store.sentences.get(list(self.texts))
        todo = [key for key in self.texts if key not in have]
        alone = [key for key in todo if key not in self.pooled]
        vectors = {key: self.pooled[key] for key in todo if key in self.pooled}
        if alone:
            vectors.update(zip(alone, embedder.embed([self.texts[key] for key in alone])))
        store.sentences.put(vectors)
        return len(vectors)


def cache_sentences(store: Store, embedder: Embedder, chunk_texts: Iterable[str]) -> int:
    """Embed (each alone) and store the sentences of ``chunk_texts`` not cached yet; returns how many were stored."""
    batch = SentenceBatch()
    for text in chunk_texts:
        batch.add(chunk_sentences(text, text))
    return batch.save(store, embedder)


class CachedEmbedder:
    """An Embedder that looks texts up (memory, then the index's sentence cache) before running the model.

    The cache may hold sentences as read in their chunk (pooled from the chunk pass). Texts that need
    their own vector go through ``standalone`` (memory, then the model), which shares the memory:
    questions (one that repeats a sentence of a document must not get its in-context vector; the
    answer step then finds the question's own vector in memory), and the claims and passage
    sentences the citation checker compares, which must tell the sentences of one passage apart.
    """

    def __init__(self, inner: Embedder, store: Store, memory: int = 4096, *, lookup: bool = True) -> None:
        self.name = inner.name
        self.inner = inner
        self.store = store
        self.lookup = lookup  # read the index's sentence cache (off: memory, then the model)
        self._memory: OrderedDict[str, list[float]] = OrderedDict()
        self._size = memory
        self._lock = threading.Lock()
        self._warned = False
        self.standalone: Embedder = _Standalone(self)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of ``texts``: remembered, cached at ingest, or computed."""
        return self._embed(texts, use_store=True)

    def embed_standalone(self, texts: Sequence[str]) -> list[list[float]]:
        """Each text's own vector: remembered or computed by the model, never taken from the sentence cache."""
        return self._embed(texts, use_store=False)

    def _embed(self, texts: Sequence[str], *, use_store: bool) -> list[list[float]]:
        keys = [sentence_key(t) for t in texts]
        found: dict[str, list[float]] = {}
        with self._lock:
            for key in keys:
                if key in self._memory:
                    self._memory.move_to_end(key)
                    found[key] = self._memory[key]
        lookup = [k for k in dict.fromkeys(keys) if k not in found]
        if lookup and use_store and self.lookup:
            found.update(self._cached(lookup))
        todo = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in found]
        if todo:
            found.update(zip([k for k, _ in todo], self.inner.embed([t for _, t in todo])))
        with self._lock:
            for key in keys:
                self._memory[key] = found[key]
                self._memory.move_to_end(key)
            while len(self._memory) > self._size:
                self._memory.popitem(last=False)
        return [found[k] for k in keys]

    def _cached(self, keys: list[str]) -> dict[str, list[float]]:
        """Vectors the index's sentence cache holds; none (the model computes them) when it cannot be read."""
        try:
            return self.store.sentences.get(keys)
        except StoreUnavailableError as exc:
            if not self._warned:  # once: the answers stay right, only slower
                self._warned = True
                log.warning("the sentence cache cannot be read (%s); answers embed their sentences instead", exc)
            return {}


class _Standalone:
    """``CachedEmbedder.standalone``: memory, then the model; never the sentence cache."""

    def __init__(self, cached: CachedEmbedder) -> None:
        self.name = cached.name
        self._cached = cached

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._cached.embed_standalone(texts)
