"""Property-based tests: no input makes the loaders, cleaning, sentences or chunking raise anything
but the project's own reported errors, and what they return keeps its invariants."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.text import split_sentences
from ingest.documents.chunking import Chunker, ChunkParams
from ingest.documents.clean import clean_text
from ingest.documents.document import BlockBuilder, Document
from ingest.documents.loaders import load_document
from ingest.embedding.embedder import token_counter
from ingest.errors import SkipFile

CHUNKER = Chunker(ChunkParams(tokens=64, overlap=8, max_chars=300), token_counter("all-MiniLM-L6-v2"))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

prose_chars = st.characters(blacklist_categories=("Cs",))
texty = st.text(alphabet=prose_chars, max_size=3000) | st.lists(
    st.sampled_from(["Hello world.", "\n", "\n\n", "Share on Facebook", "©", " ", "Mr.", "“quote”", "@everyone", "ü"]),
    max_size=200,
).map("".join)


@FAST
@given(
    data=st.binary(max_size=4096) | texty.map(lambda t: t.encode("utf-8", "surrogatepass")),
    suffix=st.sampled_from([".txt", ".md", ".html", ".pdf", ".rst", ".ipynb"]),
)
def test_loaders_return_a_document_or_skip(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doc{suffix}"
        path.write_bytes(data)
        try:
            doc = load_document(path)
        except SkipFile as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        assert doc.text.strip()
        assert isinstance(doc.metadata.get("title"), str)


@FAST
@given(texty)
def test_clean_text_never_raises_and_only_removes(text):
    cleaned = clean_text(text)
    assert isinstance(cleaned, str)
    assert len(cleaned) <= len(text) + 1


@FAST
@given(texty)
def test_sentences_keep_their_offsets(text):
    for sentence in split_sentences(text):
        assert sentence.text
        assert " ".join(text[sentence.start : sentence.end].split()) == sentence.text


blocks = st.lists(
    st.tuples(st.sampled_from(["heading", "paragraph", "code", "list_item", "table_row"]), texty), max_size=30
)


@FAST
@given(blocks)
def test_chunks_respect_limits_and_offsets(parts):
    builder = BlockBuilder()
    for kind, text in parts:
        if kind == "heading":
            builder.heading(2, text[:80])
        else:
            builder.add(kind, text)
    doc = Document(builder.blocks, {"title": "fuzz"})
    for chunk in CHUNKER.chunk(doc, {"source": "f.txt"}):
        assert 0 < len(chunk.text) <= 300
        assert 0 <= chunk.start <= chunk.end <= len(doc.text)
        assert chunk.text in chunk.embed_text
