"""Test support shared by the tests and the benchmarks: a discriminating fake embedder, real stores, taps.

Everything here builds real parts (a real Chroma, real Services) and swaps in only what cannot
run fast in a test: the embedding model, through the constructors' own seams.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest.documents.chunking import Chunker, ChunkParams
from ingest.embedding.embedder import token_counter
from ingest.embedding.encoder import Encoded, Span
from ingest.index.chroma_client import open_client
from ingest.index.store import Store
from ingest.pipeline import Ingestor

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "examples" / "docs"
FINGERPRINT = {"embed_model": "fake-bow", "chunk_tokens": 180, "chunk_overlap": 30, "chunk_max_chars": 1200}


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


class FakeSpanEmbedder(FakeEmbedder):
    """The fake model as a span-pooling encoder (like the ONNX one): one call gives texts' and spans' vectors.

    A span's vector mixes its own words with a little of the whole text's (it is read in context);
    spans ending past ``window`` characters get None, as a real model's truncated tail does.
    """

    def __init__(self, window: int = 100_000) -> None:
        super().__init__()
        self.window = window
        self.spans_pooled = 0

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[Encoded]:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = []
        for text, wanted in zip(texts, spans):
            whole = self._one(text)
            vectors: list[list[float] | None] = []
            for start, end in wanted:
                if end > self.window:
                    vectors.append(None)
                    continue
                mixed = [0.8 * a + 0.2 * b for a, b in zip(self._one(text[start:end]), whole)]
                norm = math.sqrt(sum(x * x for x in mixed)) or 1.0
                vectors.append([x / norm for x in mixed])
                self.spans_pooled += 1
            out.append(Encoded(whole, vectors))
        return out


def make_store(index_dir: Path, name: str = "test-index", fingerprint: dict | None = None, client: Any = None) -> Store:
    """A real embedded Chroma index in ``index_dir`` (or on ``client``, e.g. a ``TappedClient``)."""
    return Store(client or open_client(index_dir), name, fingerprint or FINGERPRINT, create=True)


def make_ingestor(
    store: Store, embedder, max_bytes: int = 5_000_000, chunk_tokens: int | None = None, batch_chunks: int = 256
) -> Ingestor:
    tokens = chunk_tokens or FINGERPRINT["chunk_tokens"]
    chunker = Chunker(ChunkParams(tokens=tokens), token_counter("all-MiniLM-L6-v2"))
    return Ingestor(store, embedder, chunker, max_bytes=max_bytes, batch_chunks=batch_chunks)


def raw_collection(store: Store) -> Any:
    """The Chroma collection of a store's chunks, opened anew through its client (for planting records)."""
    return store.client.get_collection(store.name, embedding_function=None)


#: Called around a tapped collection method: (collection role, method name, keyword arguments).
Tap = Callable[[str, str, dict[str, Any]], None]


def _no_tap(role: str, method: str, kwargs: dict[str, Any]) -> None:
    return None


class TappedClient:
    """A Chroma client whose collections call ``before``/``after`` around each method: count writes, inject faults.

    The collection's role is "chunks", "docs" (the manifest) or "sentences" (the sentence cache).
    """

    def __init__(self, inner: Any, *, before: Tap = _no_tap, after: Tap = _no_tap) -> None:
        self._inner = inner
        self.before = before
        self.after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_collection(self, name: str, **kwargs: Any) -> Any:
        return _TappedCollection(self._inner.get_collection(name, **kwargs), name, self)

    def get_or_create_collection(self, name: str, **kwargs: Any) -> Any:
        return _TappedCollection(self._inner.get_or_create_collection(name, **kwargs), name, self)


class _TappedCollection:
    def __init__(self, inner: Any, name: str, client: TappedClient) -> None:
        self._inner = inner
        self._client = client
        self.role = "docs" if name.endswith("-docs") else "sentences" if name.endswith("-sentences") else "chunks"

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def tapped(*args: Any, **kwargs: Any) -> Any:
            self._client.before(self.role, name, kwargs)
            result = attr(*args, **kwargs)
            self._client.after(self.role, name, kwargs)
            return result

        return tapped


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `citebot ARGS` in this process: (exit code, stdout, stderr); unexpected exceptions propagate."""
    from typer.testing import CliRunner

    from bot.cli.app import app  # here, not at the top: the kill-test driver imports this module and starts often

    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# -- markup a user should never see in a passage (issue 11); bench/markup_audit.py counts it --------------
_TAGS = "div|span|a|img|br|p|code|pre|table|tr|td|th|ul|li|ol|details|summary|sup|sub|em|strong|b|i|kbd|abbr|small|button|input|svg|figure|figcaption|iframe|script|style|section|h[1-6]"
_ROLE_NAMES = (
    "func|meth|class|attr|mod|obj|exc|data|const|ref|doc|term|envvar|option|kbd|command|file|program|samp|numref"
)
PATTERNS = {
    "heading anchor": re.compile(r"\{\s*#[\w:-]+[^}]*\}"),
    "include directive": re.compile(r"\{\*.*?\*\}|--8<--|\{\{.*?\}\}|\{%.*?%\}|^:::\s+[\w.]+\s*$", re.MULTILINE),
    "admonition fence": re.compile(r'^\s*(?:!!!|\?\?\?\+?|/{3,}|:{3,}|===\+?\s+")', re.MULTILINE),
    "pilcrow": re.compile("¶"),
    "inline HTML tag": re.compile(rf"</?(?:{_TAGS})\b[^>\n]*>", re.IGNORECASE),
    "emphasis marker": re.compile(r"\*\*[^*\n]+\*\*|(?<!\w)__[^_\n]+__(?!\w)"),
    "Markdown link": re.compile(r"\]\([^)\s]+\)|\]\[[^\]\n]*\]"),
    "Markdown bullet": re.compile(r"^\s*[*+]\s+\S", re.MULTILINE),
    # the docs dialects (issue 32): raw roles and targets, JSX, ESM lines, directive fences
    # (code spans are taken out before matching, so a role's `text` is gone: its {name} or :name: is left)
    "MyST or Sphinx role": re.compile(
        rf"\{{(?:\w+:)?(?:{_ROLE_NAMES})\}}|(?<![\w`]):(?:\w+:)?(?:{_ROLE_NAMES}):(?=[\s`]|$)"
    ),
    "emoji shortcode": re.compile(r"(?<![\w:]):[a-z0-9][a-z0-9_+-]*:(?![\w:])"),
    "MyST target": re.compile(r"^\s*\([^()\s]+\)=\s*$", re.MULTILINE),
    "JSX tag": re.compile(r"</?[A-Z][\w.]*(?:\s[^<>]*)?/?>"),
    "ESM line": re.compile(r"^\s*(?:import\s+[\w{},*\s]+\s+from\s+['\"]|export\s+(?:const|default)\s)", re.MULTILINE),
    "directive fence": re.compile(r"^\s*```\{[\w-]+\}|^\s*\.\. [\w-]+::", re.MULTILINE),
}
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]+`", re.DOTALL)  # fenced code and code spans: shown as code


def markup_in(text: str) -> list[str]:
    """The kinds of markup found in ``text``, code left out."""
    prose = _CODE.sub(" ", text)
    return [name for name, pattern in PATTERNS.items() if pattern.search(prose)]
