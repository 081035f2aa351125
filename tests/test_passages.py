"""Passage choice reads a bounded number of chunks per document: a huge document costs what a small one does."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.answering.setting_names import asked_names, heads
from bot.retrieval.hybrid import HybridOptions, HybridRetriever
from bot.retrieval.keyword import KeywordIndex, tokenize
from bot.retrieval.passages import (
    PER_RANKING,
    WHOLE_DOCUMENT,
    asked_versions,
    best_sentence_score,
    candidates,
)
from ingest.embedding.embedder import cosine
from ingest.index.chroma_client import open_client
from ingest.index.collections import Collections
from ingest.index.queries import ChunkReader
from ingest.index.records import StoredChunk
from ingest.index.store import Store
from tests.support import FINGERPRINT, FakeEmbedder, make_ingestor, make_store

TOPICS = "harbour orchard glacier railway museum senate vaccine lantern festival tunnel".split()
ANSWER = "Release 7.3 fixed the lantern flicker by replacing the copper relay in the signal box."


class CountingReader(ChunkReader):
    """A real reader that counts, per document, the chunks handed back to be scored (not the ranking's own search)."""

    def __init__(self, collections: Collections, read: Counter[str]) -> None:
        super().__init__(collections)
        self.read = read

    def _count(self, chunks: list[StoredChunk]) -> list[StoredChunk]:
        self.read.update(c.meta.source for c in chunks)
        return chunks

    def chunks_of(self, sources, *, embeddings=False):
        return self._count(super().chunks_of(sources, embeddings=embeddings))

    def get_chunks(self, ids, *, embeddings=False):
        return self._count(super().get_chunks(ids, embeddings=embeddings))

    def query(self, embedding, k, where=None):
        self.read["searches of one document" if where else "searches"] += 1
        return super().query(embedding, k, where)

    def nearest(self, embedding, k, where=None):
        self.read["searches of one document" if where else "searches"] += 1
        return super().nearest(embedding, k, where)


class CountingStore(Store):
    """A real Store whose reader counts the chunks it hands back (``read``, per document)."""

    def __init__(self, index: Path) -> None:
        super().__init__(open_client(index), "test-index", FINGERPRINT, create=False)
        self.read: Counter[str] = Counter()
        self.reader = CountingReader(self.collections, self.read)


def changelog(entries: int) -> str:
    paras = []
    for i in range(entries):
        topic = TOPICS[i % len(TOPICS)]
        paras.append(
            f"Release {i // 10}.{i % 10} changed the {topic} module. The {topic} tests were rewritten and "
            f"the {topic} documentation was updated for entry {i}. Several {topic} warnings were removed."
        )
    paras.insert(entries * 2 // 3, ANSWER)
    return "Title: Changelog\n\n" + "\n\n".join(paras) + "\n"


def build(tmp_path: Path, entries: int) -> tuple[CountingStore, FakeEmbedder]:
    docs = tmp_path / f"docs-{entries}"
    docs.mkdir()
    (docs / "changelog.md").write_text(changelog(entries))
    for t in TOPICS[:4]:
        (docs / f"{t}.txt").write_text(f"Title: About the {t}\n\nThe {t} opened in spring. Visitors liked the {t}.\n")
    embedder = FakeEmbedder()
    make_ingestor(make_store(tmp_path / f"idx-{entries}"), embedder).run(docs)
    return CountingStore(tmp_path / f"idx-{entries}"), embedder


@pytest.mark.parametrize("entries", [300, 1200])
def test_a_large_document_is_read_in_a_bounded_number_of_chunks(tmp_path, entries):
    store, embedder = build(tmp_path, entries)
    assert store.manifest.chunk_counts(["changelog.md"])["changelog.md"] > WHOLE_DOCUMENT
    retriever = HybridRetriever(store, embedder, KeywordIndex(store), HybridOptions())
    store.read.clear()
    passages = retriever.retrieve("Which release fixed the lantern flicker in the signal box?", 4)
    assert passages[0].source == "changelog.md" and ANSWER in passages[0].text
    assert 0 < store.read["changelog.md"] <= 2 * PER_RANKING  # the same for 50 chunks or 200


def test_a_large_documents_nearest_chunks_found_by_the_first_search_are_not_searched_for_again(tmp_path):
    store, embedder = build(tmp_path, 300)
    keyword = KeywordIndex(store)
    question = "Which release fixed the lantern flicker in the signal box?"
    vector = embedder.embed([question])[0]
    nearest = [hit.id for hit in store.reader.query(vector, 50) if hit.meta.source == "changelog.md"]
    assert len(nearest) >= PER_RANKING
    store.read.clear()
    searched = candidates(store, keyword, question, vector, ["changelog.md"])
    assert store.read["searches of one document"] == 1
    store.read.clear()
    found = candidates(store, keyword, question, vector, ["changelog.md"], nearest={"changelog.md": nearest})
    assert store.read["searches of one document"] == 0  # the first search's hits are its nearest chunks
    assert set(nearest[:PER_RANKING]) <= {c.id for c in found}
    dense = sorted((cosine(vector, c.embedding) for c in searched if c.embedding), reverse=True)[:PER_RANKING]
    assert sorted((cosine(vector, c.embedding) for c in found if c.embedding), reverse=True)[:PER_RANKING] == dense
    retriever = HybridRetriever(store, embedder, keyword, HybridOptions())
    store.read.clear()
    assert ANSWER in retriever.retrieve(question, 4)[0].text
    assert store.read["searches"] == 1 and store.read["searches of one document"] == 0


def test_small_documents_are_still_scored_whole(tmp_path):
    store, embedder = build(tmp_path, 200)
    retriever = HybridRetriever(store, embedder, KeywordIndex(store), HybridOptions())
    store.read.clear()
    retriever.retrieve("When did the orchard open?", 4)
    assert store.read["orchard.txt"] >= store.manifest.chunk_counts(["orchard.txt"])["orchard.txt"]


GUIDE = """# The client guide

## Overview

The client sends requests for you and gives up on a request when the server is slow. The client keeps
connections open between requests, so a slow server does not cost a new connection each time.

## Connection pools

A pool keeps up to ten connections per host. Raise the limit with `max_connections` when many requests
go to one host at once.

## Giving up on slow servers

Pass `timeout=5.0` to a single call and that request stops waiting after five seconds; the
default for every request is set on the client with `Client(timeout=...)`.

## Proxies

Set `proxy=` to send requests through a proxy server.
"""


def test_the_section_that_answers_comes_in_when_another_section_of_the_page_was_found_first(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE)
    for t in TOPICS[:3]:  # other pages, each sharing a word or two with the question
        (docs / f"{t}.txt").write_text(
            f"Title: The {t}\n\nThe {t} server was slow on Monday. Visitors to the {t} waited.\n"
        )
    embedder = FakeEmbedder()
    store = make_store(tmp_path / "idx")
    make_ingestor(store, embedder).run(docs)
    question = "my request to a slow server hangs forever, how do I make the client give up after a few seconds?"

    def sections(second_section: float | None) -> list[tuple[str, str]]:
        options = HybridOptions(second_section=second_section)
        passages = HybridRetriever(store, embedder, KeywordIndex(store), options).retrieve(question, 4)
        return [(p.source, p.section) for p in passages]

    without = sections(None)
    assert without[0] == ("guide.md", "Overview")  # the page's words, not its answer
    assert ("guide.md", "Giving up on slow servers") not in without
    found = sections(0.5)
    assert found[-1] == ("guide.md", "Giving up on slow servers")  # in the last place
    assert found[:3] == without[:3]


def test_passages_widen_to_their_own_documents_section_in_one_read(tmp_path, fake_embedder):
    from bot.retrieval.base import to_passage
    from bot.retrieval.sections import whole_sections

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, word in (("alpha.md", "orchard"), ("beta.md", "glacier")):
        body = " ".join(f"The {word} step {i} is described in this sentence of the usage section." for i in range(14))
        (docs / name).write_text(f"# {name}\n\n## Usage\n\n{body}\n\n## Other\n\nNothing about {word} here.\n")
    store = make_store(tmp_path / "index")
    report = make_ingestor(store, fake_embedder, chunk_tokens=64).run(docs)
    assert not report.failed
    reads = 0
    section_chunks = store.reader.section_chunks

    def counted(sections):
        nonlocal reads
        reads += 1
        return section_chunks(sections)

    store.reader.section_chunks = counted  # type: ignore[method-assign]
    picked = []
    for source in ("alpha.md", "beta.md"):
        chunks = [c for c in store.reader.chunks_of([source]) if c.meta.section.endswith("Usage")]
        assert len(chunks) > 2  # the section spans several chunks
        picked.append(to_passage(sorted(chunks, key=lambda c: c.meta.chunk_index)[1], score=1.0))
    alpha, beta = whole_sections(store, picked)
    assert reads == 1
    assert "orchard step 0 " in alpha.text and "orchard step 13" in alpha.text and "glacier" not in alpha.text
    assert "glacier step 0 " in beta.text and "orchard" not in beta.text


def test_a_question_naming_a_release_gets_that_releases_section_of_a_long_changelog(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    # Every heading holds "2" and "0", so the words of "when did 2.0 come out?" cannot tell the releases apart.
    releases = "\n\n".join(
        f"## 2.{n}.0 (2024-{n % 12 + 1:02d}-{n % 28 + 1:02d})\n\n"
        + "- Fixed the parser on unusual input.\n- Faster start-up for large projects.\n" * 3
        for n in range(60, -1, -1)
    )
    (docs / "CHANGELOG.md").write_text(f"# Changelog\n\n{releases}\n")
    (docs / "guide.md").write_text("# Guide\n\n## Install\n\nThe parser is installed with pip.\n")
    store = make_store(tmp_path / "index")
    report = make_ingestor(store, fake_embedder, chunk_tokens=64).run(docs)
    assert not report.failed
    assert len(store.reader.chunks_of(["CHANGELOG.md"])) > WHOLE_DOCUMENT  # long: read by its best chunks only
    options = HybridOptions(dense_weight=0.0, metadata_boost=0.0, doc_support=0.0, max_per_doc=1)
    retriever = HybridRetriever(store, None, KeywordIndex(store), options)
    found = retriever.retrieve("when did the parser 2.0 come out?", 2)
    changelog = [p for p in found if p.source == "CHANGELOG.md"]
    assert changelog and changelog[0].section.startswith("2.0.0 (")
    assert asked_versions("when did the parser 2.0.0 come out?") == {"2.0"}
    assert asked_versions("what changed in v2.7?") == {"2.7"}
    assert asked_versions("the parser takes 1.37 seconds to start, is that normal?") == set()  # a number, no release


def test_a_question_naming_an_api_gets_the_section_that_name_heads(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    # Each attribute's section says "request" and "replace" more often than the replace() method's own one.
    attributes = "".join(
        f"### Request.{name}\n\nThe {name} of the request. To replace the {name} of a request, use replace on "
        f"the request.\n\n"
        for name in ("url", "body", "meta", "headers")
    )
    (docs / "request.md").write_text(
        f"# Requests\n\n## Request\n\n{attributes}### Request.replace()\n\n"
        "Return a copy with the members given new values by keyword arguments.\n\n"
        "### REPLACE_MODE\n\nHow the request is replaced. Default: `copy`.\n"
    )
    (docs / "guide.md").write_text("# Guide\n\n## Install\n\nThe parser is installed with pip.\n")
    store = make_store(tmp_path / "index")
    make_ingestor(store, fake_embedder, chunk_tokens=64).run(docs)
    options = HybridOptions(dense_weight=0.0, metadata_boost=0.0, doc_support=0.0, max_per_doc=1)
    retriever = HybridRetriever(store, None, KeywordIndex(store), options)
    found = retriever.retrieve("what does Request.replace do to a request?", 2)
    assert found[0].section.endswith("Request.replace()")
    assert retriever.retrieve("what does `REPLACE_MODE` do to a request?", 2)[0].section.endswith("REPLACE_MODE")
    # names compare as code does: by case, without call parentheses or a value
    assert heads("Request › Request.replace()", asked_names("is Request.replace() a copy?"))
    assert heads("Options › `--line-ranges=<START-END>`", asked_names("what does --line-ranges take?"))
    assert not heads("Configuration › `broker_url`", asked_names("I set BROKER_URL, why is it ignored?"))


def test_a_sentence_is_matched_by_the_parts_of_its_camel_case_words():
    idf = dict.fromkeys(tokenize("how do I add it as a dev dependency?"), 1.0)
    options = "### --save-dev, -D\n\nInstall the specified packages as `devDependencies`."
    peers = "### --save-peer\n\nInstall the specified packages as `peerDependencies`."
    assert best_sentence_score(options, idf) > best_sentence_score(peers, idf)
