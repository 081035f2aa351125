"""Chunks are whole blocks of one section, sized in word pieces; code and table rows are never cut inside a line."""

import pytest

from ingest.documents.chunking import HEADER_TOKENS, Chunker, ChunkParams
from ingest.documents.document import Block, BlockBuilder, Document
from ingest.embedding.embedder import DEFAULT_MAX_TOKENS, token_counter

TOKENS = token_counter("all-MiniLM-L6-v2")


def make_doc(n_paragraphs: int = 30) -> Document:
    blocks = BlockBuilder()
    for i in range(n_paragraphs):
        if i % 10 == 0:
            blocks.heading(2, f"Crane group {i // 10}", f"crane-group-{i // 10}")
        blocks.add(
            "paragraph",
            f"Paragraph {i} explains how the harbour crane number {i} lifted containers onto the ship. "
            f"Workers said the job took {i + 2} hours because of the wind.",
        )
    return Document(blocks.blocks, {"title": "Harbour cranes", "date": "2024-02-03T10:00:00"})


def chunker(**params) -> Chunker:
    return Chunker(ChunkParams(**params), TOKENS)


@pytest.mark.parametrize("embed_header", [True, False])
def test_chunks_fit_the_model_window_with_their_header(embed_header):
    chunks = chunker(embed_header=embed_header).chunk(make_doc(), {"source": "a.txt"})  # 220 word pieces
    assert len(chunks) > 3
    for c in chunks:
        assert len(TOKENS(c.embed_text)) + 2 <= DEFAULT_MAX_TOKENS
        assert len(c.text) <= 1200
        assert len(TOKENS(c.header)) <= HEADER_TOKENS
        assert len(TOKENS(c.header)) + len(TOKENS(c.text)) + 2 <= DEFAULT_MAX_TOKENS  # fits even if embedded


def test_chunks_never_span_sections_and_carry_their_path():
    doc = make_doc()
    chunks = chunker().chunk(doc, {"source": "dir/a.txt"})
    sections = [c.section for c in chunks]
    assert sections == sorted(sections) and len(set(sections)) == 3  # in reading order
    for c in chunks:
        group = int(c.section[0].split()[-1])
        numbers = [int(w) for w in c.text.split() if w.isdigit()][::3]  # "Paragraph N ... number N ... N+2"
        assert all(n // 10 == group for n in numbers)  # only paragraphs of its own section
        assert c.anchor == f"crane-group-{group}"
        assert c.header == f"Harbour cranes | 2024-02-03 | Crane group {group}"
        assert "Crane group" not in c.text  # the section path is not quoted
        assert c.metadata["source"] == "dir/a.txt" and c.metadata["title"] == "Harbour cranes"


def test_offsets_point_at_the_chunk_text_and_nothing_is_lost():
    doc = make_doc()
    chunks = chunker(tokens=100).chunk(doc, {})
    for i, c in enumerate(chunks):
        assert doc.text[c.start : c.end] == c.text
        assert c.index == i
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    for block in doc.blocks:
        if block.kind != "heading":
            assert any(block.text in c.text for c in chunks)


def code_doc(lines: int) -> Document:
    blocks = BlockBuilder()
    blocks.heading(2, "Usage", "usage")
    blocks.add("paragraph", "Create a client and send the request:")
    code = "\n".join(
        f"    result_{i} = client.get('https://example.org/items/{i}', timeout=10.0)" for i in range(lines)
    )
    blocks.add("code", "import httpx\n\nwith httpx.Client() as client:\n" + code, "python")
    blocks.add("paragraph", "The client closes its connections when the block ends.")
    return Document(blocks.blocks, {"title": "Clients"})


def test_a_code_block_that_fits_stays_whole_with_its_lead_in():
    doc = code_doc(lines=5)
    chunks = chunker().chunk(doc, {})
    assert len(chunks) == 1
    text = chunks[0].text
    assert text.startswith("Create a client and send the request:\n\n```python\nimport httpx\n")
    assert "result_4 = client.get('https://example.org/items/4', timeout=10.0)\n```" in text


def test_an_over_long_code_block_splits_between_lines_each_part_fenced():
    doc = code_doc(lines=60)
    chunks = chunker().chunk(doc, {})
    code_chunks = [c for c in chunks if "```python" in c.text]
    assert len(code_chunks) > 2
    for c in chunks:
        assert len(c.text) <= 1200 and len(TOKENS(c.text)) <= 220
    for c in code_chunks:
        body = c.text[c.text.index("```python\n") + len("```python\n") :]
        assert body.endswith("\n```") or "\n```\n\n" in body  # closed fence
        for line in body.split("\n"):
            if line.startswith("    result_"):
                assert line.endswith("timeout=10.0)")  # no line is cut
    every_line = "".join(c.text for c in code_chunks)
    assert all(f"result_{i} =" in every_line for i in range(60))


def test_table_rows_are_never_split():
    blocks = BlockBuilder()
    blocks.heading(2, "Settings", "settings")
    for i in range(40):
        blocks.add("table_row", f"option_{i} — Default: {i * 10} — Seconds before the worker number {i} is restarted.")
    doc = Document(blocks.blocks, {"title": "Config"})
    chunks = chunker(tokens=80).chunk(doc, {})
    assert len(chunks) > 3
    rows = [row for c in chunks for row in c.text.split("\n\n")]
    assert rows == [b.text for b in doc.blocks if b.kind == "table_row"]


def test_a_long_paragraph_splits_between_sentences():
    sentences = [
        f"Sentence {i} says the tide rises {i} centimetres every hour near the harbour wall." for i in range(80)
    ]
    doc = Document([Block("paragraph", " ".join(sentences))], {"title": "Tides"})
    chunks = chunker(tokens=120, overlap=0).chunk(doc, {})
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("Sentence ") and c.text.endswith("wall.")
        assert len(TOKENS(c.text)) <= 120


def test_one_giant_line_is_capped():
    doc = Document([Block("paragraph", "word" * 5000)], {"title": "t"})
    chunks = chunker(max_chars=1000).chunk(doc, {})
    assert chunks and all(len(c.text) <= 1000 for c in chunks)


def test_pages_follow_blocks():
    blocks = BlockBuilder()
    for page in (1, 2, 3):
        blocks.page = page
        for i in range(12):
            blocks.add("paragraph", f"Page {page} sentence {i} talks about the harbour cranes and their loads.")
    doc = Document(blocks.blocks, {"title": "p"})
    chunks = chunker(tokens=40, overlap=0).chunk(doc, {})
    assert len(chunks) > 6  # several chunks per page
    for c in chunks:
        first_page = int(c.text.split()[1])  # each chunk starts with "Page <n> sentence ..."
        assert c.page == first_page, c.text[:40]
    assert {c.page for c in chunks} == {1, 2, 3}
