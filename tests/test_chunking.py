import pytest

from ingest.chunking import HEADER_TOKENS, Chunker, ChunkParams
from ingest.embedder import DEFAULT_MAX_TOKENS, token_counter
from ingest.loaders import Document

TOKENS = token_counter("all-MiniLM-L6-v2")


def make_doc(n_paragraphs: int = 30) -> Document:
    paragraphs = [
        f"Paragraph {i} explains how the harbour crane number {i} lifted containers onto the ship. "
        f"Workers said the job took {i + 2} hours because of the wind."
        for i in range(n_paragraphs)
    ]
    return Document(text="\n\n".join(paragraphs), metadata={"title": "Harbour cranes", "date": "2024-02-03T10:00:00"})


@pytest.mark.parametrize("embed_header", [True, False])
def test_chunks_fit_the_model_window_with_their_header(embed_header):
    chunker = Chunker(ChunkParams(embed_header=embed_header), TOKENS)  # default size: 220 word pieces
    chunks = chunker.chunk(make_doc(), {"source": "a.txt"})
    assert len(chunks) > 3
    for c in chunks:
        assert len(TOKENS(c.embed_text)) + 2 <= DEFAULT_MAX_TOKENS
        assert len(c.text) <= 1200
        assert len(TOKENS(chunker.header(c.metadata))) <= HEADER_TOKENS
        assert len(TOKENS(c.header)) + len(TOKENS(c.text)) + 2 <= DEFAULT_MAX_TOKENS  # fits even if embedded


def test_offsets_point_at_the_chunk_text_and_metadata_is_kept():
    doc = make_doc()
    chunks = Chunker(ChunkParams(), TOKENS).chunk(doc, {"source": "dir/a.txt"})
    for i, c in enumerate(chunks):
        assert doc.text[c.start : c.end] == c.text
        assert c.index == i
        assert c.metadata["source"] == "dir/a.txt"
        assert c.metadata["title"] == "Harbour cranes"
        assert c.header == "Harbour cranes | 2024-02-03"
        assert c.embed_text == c.text  # the header is not embedded by default
    with_header = Chunker(ChunkParams(embed_header=True), TOKENS).chunk(doc, {"source": "dir/a.txt"})
    for c in with_header:
        assert c.embed_text.startswith("Harbour cranes | 2024-02-03\n")
        assert c.text in c.embed_text and "Harbour cranes |" not in c.text
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_consecutive_chunks_overlap_and_cover_the_text():
    doc = make_doc()
    chunks = Chunker(ChunkParams(tokens=120, overlap=30), TOKENS).chunk(doc, {})
    assert chunks[0].start == 0
    assert chunks[-1].end == len(doc.text)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start <= a.end  # no gap


def test_one_giant_line_is_capped():
    doc = Document(text="word" * 5000, metadata={"title": "t"})
    chunks = Chunker(ChunkParams(max_chars=1000), TOKENS).chunk(doc, {})
    assert chunks and all(len(c.text) <= 1000 for c in chunks)


def test_pages_follow_offsets():
    pages = [
        " ".join(f"Page {n} sentence {i} talks about the harbour cranes and their loads." for i in range(12))
        for n in (1, 2, 3)
    ]
    text = "\n\n".join(pages)
    starts = [0, len(pages[0]) + 2, len(pages[0]) + len(pages[1]) + 4]
    doc = Document(text=text, metadata={"title": "p"}, page_starts=starts)
    chunks = Chunker(ChunkParams(tokens=40, overlap=0), TOKENS).chunk(doc, {})
    assert len(chunks) > 6  # several chunks per page
    for c in chunks:
        first_page = int(c.text.split()[1])  # each chunk starts with "Page <n> sentence ..."
        assert c.page == first_page, c.text[:40]
    assert {c.page for c in chunks} == {1, 2, 3}
