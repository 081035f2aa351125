from pathlib import Path

import pytest

from ingest.documents.loaders import decode_text, load_document
from ingest.errors import SkipFile
from tests.pdfgen import make_pdf
from tests.support import FIXTURES


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_txt_header_lines_become_metadata(tmp_path):
    path = write(
        tmp_path,
        "a.txt",
        "Title: Moon &amp; tides\nSource: The Verge\nPublished: 2023-10-07T15:37:43+00:00\n"
        "Author: Kim\nURL: https://x.example/a\n\nThe moon pulls the oceans. Tides follow it.\n",
    )
    doc = load_document(path)
    assert doc.metadata == {
        "title": "Moon & tides",
        "source_name": "The Verge",
        "date": "2023-10-07T15:37:43+00:00",
        "author": "Kim",
        "url": "https://x.example/a",
    }
    assert doc.text == "The moon pulls the oceans. Tides follow it."


def test_a_first_line_with_a_colon_is_not_a_header(tmp_path):
    path = write(tmp_path, "b.txt", "Note: this is just text about things.\nSecond line here.\n")
    doc = load_document(path)
    assert doc.text.startswith("Note: this is just text")
    assert doc.metadata["title"] == "Note: this is just text about things."


def test_a_first_line_that_is_a_restructuredtext_field_is_no_title(tmp_path):
    # a fragment a Sphinx page includes: its links must not read ":Version: 5.5.3 (immunity)"
    path = write(tmp_path, "intro.txt", ":Version: 5.5.3 (immunity)\n:Web: https://x.example/\n\nWhat a queue is.\n")
    doc = load_document(path)
    assert doc.metadata["title"] == "Intro"  # named by its file, as a document without a title is
    assert doc.text.startswith(":Version: 5.5.3")


def test_markdown_front_matter(tmp_path):
    path = write(
        tmp_path,
        "c.md",
        "---\ntitle: Front matter title\nauthor: [Ann, Bo]\ndate: 2024-01-02\n"
        "link: https://y.example\n---\n\n# Front matter title\n\nBody sentence one is here.\n",
    )
    doc = load_document(path)
    assert doc.metadata["title"] == "Front matter title"
    assert doc.metadata["author"] == "Ann, Bo"
    assert doc.metadata["date"] == "2024-01-02"
    assert doc.metadata["url"] == "https://y.example"
    assert doc.text == "Body sentence one is here."  # the repeated headline is not body text


def test_html_main_text_and_metadata_without_clutter():
    doc = load_document(FIXTURES / "cookie-page.html")
    assert doc.metadata["title"] == "City opens its first public tool library"
    assert doc.metadata["url"] == "https://gazette.example/tool-library"
    assert doc.metadata["author"] == "Dana Lee"
    assert "borrow drills, ladders and sewing machines" in doc.text
    for clutter in ["cookies", "Share on", "Subscribe", "All rights reserved", "Home"]:
        assert clutter not in doc.text


def test_pdf_pages_are_kept(tmp_path):
    path = write(tmp_path, "d.pdf", make_pdf(["First page mentions apples.", "Second page mentions pears."], "Fruit"))
    doc = load_document(path)
    assert doc.metadata["title"] == "Fruit"
    assert [(b.text, b.page) for b in doc.blocks] == [
        ("First page mentions apples.", 1),
        ("Second page mentions pears.", 2),
    ]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n ", "empty file"),
        ("image.txt", bytes(range(256)) * 10, "binary"),
        ("latin.txt", "caf\xe9 ".encode("latin-1") * 200, "undecodable"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "PDF"),
        ("zip.pdf", b"PK\x03\x04" + b"\x00" * 200, "broken PDF"),
        ("noext", b"hello", "unsupported"),
    ],
)
def test_bad_files_raise_skipfile_with_a_reason(tmp_path, name, data, reason):
    path = write(tmp_path, name, data)
    with pytest.raises(SkipFile) as err:
        load_document(path)
    assert reason.lower() in str(err.value).lower()
    assert "\n" not in str(err.value)


def test_a_few_bad_bytes_are_replaced_not_fatal():
    text = decode_text(("x" * 5000).encode() + b"\xff" + b" end")
    assert text.endswith("\ufffd end")


def test_utf8_bom_is_dropped():
    assert decode_text("\ufeffHello".encode("utf-8")) == "Hello"
