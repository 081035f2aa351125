"""Builders shared by tests: a real Chroma store and an Ingestor over it."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import Chunker, ChunkParams
from ingest.embedder import token_counter
from ingest.pipeline import Ingestor
from ingest.store import Store, open_client

FINGERPRINT = {"embed_model": "fake-bow", "chunk_tokens": 180, "chunk_overlap": 30, "chunk_max_chars": 1200}


def make_store(index_dir: Path, name: str = "test-index", fingerprint: dict | None = None) -> Store:
    return Store(open_client(index_dir), name, fingerprint or FINGERPRINT, create=True)


def make_ingestor(store: Store, embedder, max_bytes: int = 5_000_000, chunk_tokens: int | None = None) -> Ingestor:
    tokens = chunk_tokens or FINGERPRINT["chunk_tokens"]
    chunker = Chunker(ChunkParams(tokens=tokens), token_counter("all-MiniLM-L6-v2"))
    return Ingestor(store, embedder, chunker, max_bytes=max_bytes)
