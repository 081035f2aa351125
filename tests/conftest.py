"""Shared fixtures: a discriminating fake embedder, isolated settings, real Chroma stores."""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "examples" / "docs"


class FakeEmbedder:
    """Hashed bag of words (with light stemming): texts sharing words get similar vectors.

    Not a constant: it ranks texts differently, so retrieval and answer tests can fail.
    """

    name = "fake-bow"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            if len(word) < 3:
                continue
            word = word[:6]  # crude stemming: leave/leaving, pakistan/pakistani
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            vec[h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        return [x / norm for x in vec]


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One machine-wide cache for the session (the ONNX export is made once, not per test)."""
    return tmp_path_factory.mktemp("citebot-cache")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_cache: Path) -> Iterator[None]:
    """No CITEBOT_* variable or .env of the developer leaks into a test."""
    for key in list(os.environ):
        if key.startswith("CITEBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(shared_cache))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A copy of the sample corpus plus the clutter fixtures, safe to modify."""
    target = tmp_path / "docs"
    shutil.copytree(EXAMPLES, target)
    shutil.copy(FIXTURES / "clutter-article.txt", target / "octopus.txt")
    return target
