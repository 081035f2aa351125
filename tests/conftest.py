"""Shared fixtures: a discriminating fake embedder, isolated settings, a copy of the sample corpus."""

from __future__ import annotations

import importlib.abc
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import EXAMPLES, FIXTURES, FakeEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: What running the real embedding model imports; tests not marked e2e must not need them.
MODEL_RUNTIMES = ("torch", "sentence_transformers", "onnxruntime")


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


class _RefuseModelRuntimes(importlib.abc.MetaPathFinder):
    """Makes importing a model runtime fail (only while it is not imported yet, as in `make test-fast`)."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.split(".")[0] in MODEL_RUNTIMES:
            raise ImportError(f"{fullname} imported by a test not marked e2e (it loads the real model)")


@pytest.fixture(autouse=True)
def model_only_in_e2e(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep `make test-fast` honest: outside e2e tests, loading a model runtime fails the test."""
    if request.node.get_closest_marker("e2e") is None:
        monkeypatch.setattr(sys, "meta_path", [_RefuseModelRuntimes(), *sys.meta_path])


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A copy of the sample corpus plus the clutter fixtures, safe to modify."""
    target = tmp_path / "docs"
    shutil.copytree(EXAMPLES, target)
    shutil.copy(FIXTURES / "clutter-article.txt", target / "octopus.txt")
    return target


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """`make test-llm` prints what it measured: the model's start, seconds per answer, the fallbacks."""
    timings = getattr(sys.modules.get("tests.test_llm_real"), "TIMINGS", None)
    if timings:
        terminalreporter.section("real model")
        for name, value in timings.items():
            terminalreporter.write_line(f"{name}: {value:.1f}" if isinstance(value, float) else f"{name}: {value}")
