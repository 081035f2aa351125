"""Sentence embeddings computed once at ingest and looked up at answer time.

The extractive answerer and the citation checker compare the question with every sentence of the
retrieved passages. Embedding those ~40 sentences per question costs hundreds of milliseconds on
a CPU; looking them up costs a few. Entries are keyed by the sentence's text, so they are shared
by documents, survive renames and are never stale: a sentence with the same text has the same
vector under the index's one model (the fingerprint guarantees the model). Entries of deleted
documents linger unused until the next ``--rebuild``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from ingest.embedder import Embedder
from ingest.sentences import passage_sentences
from ingest.store import Store

#: Sentences the answerer may quote are at least this many words long (bot/answering/evidence.py quotable()).
MIN_WORDS = 2


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


def cache_sentences(store: Store, embedder: Embedder, chunk_texts: Iterable[str]) -> int:
    """Embed and store the sentences of ``chunk_texts`` not cached yet; returns how many were embedded."""
    sentences = quotable_sentences(chunk_texts)
    if not sentences:
        return 0
    keys = [sentence_key(s) for s in sentences]
    have = store.sentence_vectors(keys)
    missing = [(k, s) for k, s in zip(keys, sentences) if k not in have]
    if not missing:
        return 0
    vectors = embedder.embed([s for _, s in missing])
    store.put_sentence_vectors({k: v for (k, _), v in zip(missing, vectors)})
    return len(missing)


class CachedEmbedder:
    """An Embedder that looks texts up (memory, then the index's sentence cache) before running the model."""

    def __init__(self, inner: Embedder, store: Store, memory: int = 4096) -> None:
        self.name = inner.name
        self.inner = inner
        self.store = store
        self._memory: OrderedDict[str, list[float]] = OrderedDict()
        self._size = memory
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [sentence_key(t) for t in texts]
        found: dict[str, list[float]] = {}
        with self._lock:
            for key in keys:
                if key in self._memory:
                    self._memory.move_to_end(key)
                    found[key] = self._memory[key]
        lookup = [k for k in dict.fromkeys(keys) if k not in found]
        if lookup:
            found.update(self.store.sentence_vectors(lookup))
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
