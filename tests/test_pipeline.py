import os
import shutil
from pathlib import Path

import pytest

from bot.services import Services
from bot.settings import load_settings
from ingest.errors import IngestError
from ingest.index.chroma_client import open_client
from ingest.index.records import LIVE
from ingest.report import IngestReport
from ingest.sources import Listing, Stamp
from tests.support import TappedClient, make_ingestor, make_store, raw_collection


@pytest.fixture
def setup(tmp_path, docs_dir, fake_embedder):
    store = make_store(tmp_path / "idx")
    return docs_dir, store, make_ingestor(store, fake_embedder), fake_embedder


def test_first_run_adds_every_document(setup):
    docs, store, ingestor, _ = setup
    report = ingestor.run(docs)
    assert report.added == 5 and report.failed == [] and report.chunks == store.reader.count() > 5
    assert set(store.manifest.documents()) == {
        "blackberry-pakistan-exit.md",
        "heat-pumps.html",
        "octopus.txt",
        "sourdough-starter.txt",
        "tide-pools.md",
    }


def test_second_run_embeds_nothing(setup):
    docs, store, ingestor, emb = setup
    ingestor.run(docs)
    before = emb.texts_embedded
    report = ingestor.run(docs)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert emb.texts_embedded == before


def test_touched_but_identical_file_is_unchanged(setup):
    docs, _store, ingestor, emb = setup
    ingestor.run(docs)
    before = emb.texts_embedded
    os.utime(docs / "tide-pools.md", ns=(1, 1))
    report = ingestor.run(docs)
    assert report.unchanged == 5 and emb.texts_embedded == before


def test_edit_replaces_only_that_documents_chunks(setup):
    docs, store, ingestor, emb = setup
    ingestor.run(docs)
    other_ids = {c.id for c in store.reader.iter_chunks() if c.meta.source != "tide-pools.md"}
    path = docs / "tide-pools.md"
    path.write_text(path.read_text() + "\nStarfish can regrow a lost arm over several months.\n")
    before = emb.texts_embedded
    report = ingestor.run(docs)
    assert (report.updated, report.unchanged) == (1, 4)
    tide = [c for c in store.reader.iter_chunks() if c.meta.source == "tide-pools.md"]
    assert any("Starfish" in c.text for c in tide)
    assert len({c.meta.doc_hash for c in tide}) == 1  # one version only
    assert {c.id for c in store.reader.iter_chunks() if c.meta.source != "tide-pools.md"} == other_ids
    assert emb.texts_embedded - before == report.embedded + report.sentences_embedded
    assert report.embedded <= len(tide)
    assert report.sentences_embedded == 1  # only the new sentence; the others are cached


def test_delete_removes_its_chunks(setup):
    docs, store, ingestor, _ = setup
    ingestor.run(docs)
    (docs / "heat-pumps.html").unlink()
    report = ingestor.run(docs)
    assert report.removed == 1
    assert all(c.meta.source != "heat-pumps.html" for c in store.reader.iter_chunks())


def test_rename_reuses_embeddings(setup):
    docs, store, ingestor, emb = setup
    ingestor.run(docs)
    (docs / "sub").mkdir()
    shutil.move(docs / "tide-pools.md", docs / "sub" / "pools.md")
    before = emb.texts_embedded
    report = ingestor.run(docs)
    assert (report.added, report.removed) == (1, 1)
    assert emb.texts_embedded == before and report.embedded == 0
    assert {c.meta.source for c in store.reader.iter_chunks()} >= {"sub/pools.md"}


def test_unreadable_file_is_reported_and_keeps_its_previous_chunks(setup):
    docs, store, ingestor, _ = setup
    ingestor.run(docs)
    (docs / "tide-pools.md").write_bytes(b"\x00\x01binary now")
    report = ingestor.run(docs)
    assert report.failed == [{"path": "tide-pools.md", "reason": "binary file (contains NUL bytes)"}]
    assert report.removed == 0
    assert any(c.meta.source == "tide-pools.md" for c in store.reader.iter_chunks())


def test_bad_inputs_are_reported_and_the_rest_ingested(setup):
    docs, store, ingestor, _ = setup
    (docs / "zero.txt").write_bytes(b"")
    (docs / "blob.md").write_bytes(os.urandom(2048).replace(b"\x00", b"\x01") + b"\x00")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n% truncated")
    (docs / "latin1.txt").write_bytes("d\xe9j\xe0 vu ".encode("latin-1") * 300)
    report = ingestor.run(docs)
    failed = {f["path"] for f in report.failed}
    assert failed == {"zero.txt", "blob.md", "broken.pdf", "latin1.txt"}
    assert report.added == 5


def test_hidden_ignored_large_and_outside_links_are_skipped(setup, tmp_path):
    docs, store, _, emb = setup
    ingestor = make_ingestor(store, emb, max_bytes=3000)
    (docs / ".secret.txt").write_text("hidden words here")
    (docs / ".git").mkdir()
    (docs / ".git" / "HEAD.txt").write_text("ref: main")
    (docs / "node_modules").mkdir()
    (docs / "node_modules" / "x.md").write_text("package readme")
    (docs / "big.txt").write_text("big " * 2000)
    outside = tmp_path / "outside.txt"
    outside.write_text("Outside text should never be indexed by the bot.")
    (docs / "link.txt").symlink_to(outside)
    (docs / "loop").symlink_to(docs, target_is_directory=True)
    (docs / "photo.jpg").write_bytes(b"\xff\xd8")
    report = ingestor.run(docs)
    sources = set(store.manifest.documents())
    assert not any(s.startswith((".", "node_modules", "loop")) for s in sources)
    skipped = {s["path"]: s["reason"] for s in report.skipped}
    assert "MB limit" in skipped["big.txt"]
    assert "outside" in skipped["link.txt"]
    assert "unsupported" in skipped["photo.jpg"]
    assert "link.txt" not in sources and "big.txt" not in sources


def test_missing_folder_and_empty_folder(setup, tmp_path):
    docs, store, ingestor, _ = setup
    with pytest.raises(IngestError, match="folder not found"):
        ingestor.run(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert ingestor.run(empty).added == 0  # an empty index stays empty, no error
    ingestor.run(docs)
    with pytest.raises(IngestError, match="refusing to empty"):
        ingestor.run(empty)
    assert store.reader.count() > 0


def test_interrupted_write_is_finished_by_the_next_run(tmp_path, docs_dir, fake_embedder):
    crashing = {"on": False}

    def crash_on_delete(role, method, kwargs):
        if crashing["on"] and role == "chunks" and method == "delete":
            raise KeyboardInterrupt  # killed after the flip, before old chunks are deleted

    store = make_store(tmp_path / "idx", client=TappedClient(open_client(tmp_path / "idx"), before=crash_on_delete))
    ingestor = make_ingestor(store, fake_embedder)
    ingestor.run(docs_dir)
    path = docs_dir / "sourdough-starter.txt"
    path.write_text(path.read_text() + "\nRye flour makes a starter more active.\n")
    crashing["on"] = True
    with pytest.raises(KeyboardInterrupt):
        ingestor.run(docs_dir)
    crashing["on"] = False
    visible = [c for c in store.reader.iter_chunks() if c.meta.source == "sourdough-starter.txt"]
    assert len({c.meta.doc_hash for c in visible}) == 1  # never both versions
    assert raw_collection(store).get(where={LIVE: False})["ids"]  # the old version is left hidden
    report = ingestor.run(docs_dir)
    assert report.updated == 1
    visible = [c for c in store.reader.iter_chunks() if c.meta.source == "sourdough-starter.txt"]
    assert any("Rye flour" in c.text for c in visible)
    assert raw_collection(store).get(where={LIVE: False})["ids"] == []


def test_citebotignore_and_excludes_leave_files_out_and_are_reported(setup):
    docs, store, ingestor, _ = setup
    (docs / "notes").mkdir()
    (docs / "notes" / "draft.md").write_text("# Draft\n\nA draft about starfish that nobody should read yet.\n")
    (docs / "CHANGELOG.md").write_text("# Changelog\n\n## 1.0\n\n- First release of the sourdough guide.\n")
    first = ingestor.run(docs)
    assert {"notes/draft.md", "CHANGELOG.md"} <= set(store.manifest.documents())
    (docs / ".citebotignore").write_text("# release notes are noise here\nCHANGELOG.md\n")
    report = ingestor.run(docs, excludes=["notes/"])
    assert {"path": "CHANGELOG.md", "reason": "excluded by .citebotignore"} in report.skipped
    assert {"path": "notes/", "reason": "excluded by --exclude 'notes/'"} in report.skipped
    assert report.removed == 2  # excluded files that were indexed before leave the index
    assert not {"notes/draft.md", "CHANGELOG.md"} & set(store.manifest.documents())
    assert all(c.meta.source not in {"notes/draft.md", "CHANGELOG.md"} for c in store.reader.iter_chunks())
    assert first.added == report.unchanged + 2


def test_sections_and_anchors_reach_the_index(tmp_path, fake_embedder):
    from tests.support import FIXTURES

    store = make_store(tmp_path / "idx")
    docs = tmp_path / "site"
    docs.mkdir()
    shutil.copy(FIXTURES / "docs" / "sphinx-settings.html", docs / "settings.html")
    make_ingestor(store, fake_embedder).run(docs)
    chunk = next(c for c in store.reader.iter_chunks() if "Workers silent" in c.text)
    assert chunk.meta.section == "Worker Processes › timeout" and chunk.meta.anchor == "timeout"
    assert chunk.meta.url == "https://docs.gunicorn.org/en/stable/settings.html"


def test_a_file_name_that_is_not_utf8_is_indexed_under_an_escaped_name(setup):
    docs, store, ingestor, _ = setup
    raw = os.path.join(os.fsencode(docs), b"caf\xe9-notes.txt")  # Latin-1 bytes, as an old archive leaves them
    with open(raw, "wb") as fh:
        fh.write(b"The cafe opens at seven and closes when the bakery runs out of croissants.\n")
    report = ingestor.run(docs)
    assert report.failed == [] and report.added == 6
    assert "caf\\xe9-notes.txt" in store.manifest.documents()
    assert any("croissants" in c.text for c in store.reader.iter_chunks() if c.meta.source == "caf\\xe9-notes.txt")
    again = ingestor.run(docs)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 6)  # the same name on every run


def test_a_fifo_is_skipped_not_read(setup):
    import threading

    docs, store, ingestor, _ = setup
    os.mkfifo(docs / "pipe.txt")  # opening it would block until a writer comes: forever
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(report=ingestor.run(docs)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "ingest hung on a FIFO"
    report = result["report"]
    assert {"path": "pipe.txt", "reason": "not a regular file (a pipe, socket or device)"} in report.skipped
    assert report.added == 5


def test_a_file_slower_to_read_than_the_limit_is_skipped_and_the_rest_indexed(tmp_path, docs_dir, fake_embedder):
    """The application reads files in a child process: one that takes too long is a reported skip, not a hang."""
    slow = docs_dir / "slow.md"
    slow.write_text("\n\n".join(f"Paragraph {i} with a few words in it." for i in range(60_000)))  # ~5 s to read
    services = Services(load_settings(index_dir=tmp_path / "idx", file_timeout=1.0), embedder=fake_embedder)
    try:
        report = services.ingest(docs_dir)
    finally:
        services.reader.close()
    assert [f["path"] for f in report.failed] == ["slow.md"]
    assert "CITEBOT_FILE_TIMEOUT" in report.failed[0]["reason"]
    assert report.added == len(list(docs_dir.iterdir())) - 1
    assert "slow.md" not in services.store().manifest.documents()


class PagesSource:
    """A source that is not a folder (as a crawled site would be): pages by URL path, stamped by version.

    ``fetch`` gives the bytes; ``locate`` is a cached copy the loader reads, as a site source keeps one.
    """

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.pages: dict[str, tuple[int, str]] = {}  # id -> (version, text)

    def list(self, report: IngestReport) -> Listing:
        return Listing({doc_id: Stamp(len(text), version) for doc_id, (version, text) in self.pages.items()})

    def owns(self, doc_id: str) -> bool:
        return not doc_id.startswith("/")

    def fetch(self, doc_id: str) -> bytes:
        return self.pages[doc_id][1].encode()

    def locate(self, doc_id: str) -> Path:
        copy = self.cache / doc_id
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(self.fetch(doc_id))
        return copy


def test_the_pipeline_drives_any_source_by_its_stamps(tmp_path, fake_embedder):
    store = make_store(tmp_path / "idx")
    ingestor = make_ingestor(store, fake_embedder)
    site = PagesSource(tmp_path / "cache")
    site.pages = {
        "guide/install.md": (1, "# Install\n\nRun pip install citebot to install the package.\n"),
        "guide/usage.md": (1, "# Usage\n\nRun citebot ask with a question about your documents.\n"),
    }
    assert ingestor.run(site).added == 2
    assert ingestor.run(site).unchanged == 2  # same stamps: nothing fetched, nothing embedded

    site.pages["guide/usage.md"] = (2, "# Usage\n\nRun citebot chat for a conversation with follow-ups.\n")
    site.pages["guide/faq.md"] = (1, "# FAQ\n\nThe answers cite quoted passages of named documents.\n")
    del site.pages["guide/install.md"]
    report = ingestor.run(site)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 0)
    assert set(store.manifest.documents()) == {"guide/usage.md", "guide/faq.md"}
    assert any("conversation" in c.text for c in store.reader.iter_chunks() if c.meta.source == "guide/usage.md")
