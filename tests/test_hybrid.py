"""Hybrid retrieval over a real Chroma (embedded and a real `chroma run` server) with the fake embedder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.retrieval.hybrid import HybridOptions, HybridRetriever, cover, named_days, named_publishers, select_diverse
from bot.retrieval.keyword import KeywordIndex
from ingest.index.chroma_client import open_client
from ingest.index.store import Store
from tests.chroma_server import chroma_server as run_chroma_server
from tests.support import FINGERPRINT, make_ingestor, make_store

KEYWORD_ONLY = HybridOptions(dense_weight=0.0, metadata_boost=0.0, doc_support=0.0, max_per_doc=0)


def article(title: str, source: str, date: str, body: str) -> str:
    return f"Title: {title}\nSource: {source}\nPublished: {date}\n\n{body}\n"


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


# -- pure parts -----------------------------------------------------------------------------
def test_named_days_reads_common_date_forms():
    q = "What did it say on October 7, 2023, and on 3rd of March 2024, and on 2022-01-31 or Sept. 9 2021?"
    assert named_days(q) == {"2023-10-07", "2024-03-03", "2022-01-31", "2021-09-09"}
    assert named_days("In October 2023 and on February 30, 2023") == set()  # month only; impossible day


def test_named_publishers_match_whole_names_only():
    pubs = {"The Verge", "TechCrunch", "Business Today | Latest News India", "AP"}
    q = "According to the verge and 'Business Today | Latest News India', why was APple sued?"
    assert named_publishers(q, pubs) == {"The Verge", "Business Today | Latest News India"}


class _C:
    def __init__(self, name: str, source: str) -> None:
        self.name, self.source = name, source


def test_select_diverse_caps_documents_and_fills_up():
    ranked = [_C("a1", "a"), _C("a2", "a"), _C("a3", "a"), _C("b1", "b"), _C("c1", "c")]
    assert [c.name for c in select_diverse(ranked, 3, 1)] == ["a1", "b1", "c1"]
    assert [c.name for c in select_diverse(ranked, 4, 1)] == ["a1", "b1", "c1", "a2"]
    assert [c.name for c in select_diverse(ranked, 3, 2)] == ["a1", "a2", "b1"]
    assert [c.name for c in select_diverse(ranked, 3, 0)] == ["a1", "a2", "a3"]
    # greedy: the top 2 of a longer list are the top 2
    assert select_diverse(ranked, 2, 1) == select_diverse(ranked, 5, 1)[:2]


# -- over a real embedded Chroma -------------------------------------------------------------
def ingest(store: Store, folder: Path, embedder) -> None:
    report = make_ingestor(store, embedder).run(folder)
    assert not report.failed


def indexed(tmp_path: Path, embedder, files: dict[str, str]) -> Store:
    """A real index of ``files`` (name -> text), written to ``tmp_path / "docs"`` and ingested."""
    for name, text in files.items():
        write(tmp_path / "docs", name, text)
    store = make_store(tmp_path / "index")
    ingest(store, tmp_path / "docs", embedder)
    return store


def test_header_is_searchable_but_not_quoted(tmp_path, fake_embedder):
    store = indexed(
        tmp_path,
        fake_embedder,
        {
            "a.txt": article("Harbour works", "Zephyr Gazette", "2024-03-03", "The pier was rebuilt in stone."),
            "b.txt": article("Harbour news", "Other Paper", "2024-03-03", "The pier was rebuilt in wood."),
        },
    )
    passages = HybridRetriever(store, None, KeywordIndex(store), KEYWORD_ONLY).retrieve("zephyr gazette pier", 2)
    assert passages[0].source == "a.txt"
    assert "Zephyr" not in passages[0].text and passages[0].text.startswith("The pier")


def test_a_name_typed_without_its_accents_finds_the_document_that_writes_them(tmp_path, fake_embedder):
    store = indexed(
        tmp_path,
        fake_embedder,
        {
            "a.txt": article("Tour", "Daily", "2024-03-03", "Beyoncé opened the tour in Sévérine's city."),
            "b.txt": article("Other", "Daily", "2024-03-03", "The orchestra opened the season in the city."),
        },
    )
    keyword = KeywordIndex(store)
    passages = HybridRetriever(store, None, keyword, KEYWORD_ONLY).retrieve("where did Beyonce open the tour?", 1)
    assert passages[0].source == "a.txt" and "Beyoncé" in passages[0].text  # found by "beyonce", quoted as written
    assert set(keyword.idf(["beyonce", "severine"])) == {"beyonce", "severine"}


def test_words_written_apart_find_the_camel_case_name_but_its_parts_are_no_words_of_the_index(tmp_path, fake_embedder):
    store = indexed(
        tmp_path,
        fake_embedder,
        {
            "add.md": "# Options\n\nInstall the specified packages as `devDependencies` with the AsyncClient.\n",
            "other.md": "# Other\n\nInstall the specified packages globally for every project of the machine.\n",
        },
    )
    keyword = KeywordIndex(store)
    for question in ("how do I make it a dev dependency?", "is there an async client?"):  # words no page writes apart
        assert [p.source for p in HybridRetriever(store, None, keyword, KEYWORD_ONLY).retrieve(question, 1)] == [
            "add.md"
        ]
    # how rare a word is, and whether the index holds it, count whole words only
    assert set(keyword.idf(["devdependency", "asyncclient", "dev", "client"])) == {"devdependency", "asyncclient"}
    assert keyword.counts(["package", "asyncclient", "async"]) == {"package": 2, "asyncclient": 1}


def test_a_word_the_question_repeats_weighs_more_than_one_it_says_once(tmp_path, fake_embedder):
    store = indexed(
        tmp_path,
        fake_embedder,
        {
            "lines.md": "# Wrapping\n\nLong lines are wrapped at the configured width.\n",
            "items.md": "# Items\n\nEach item is exported as it comes.\n",
        },
    )
    retriever = HybridRetriever(store, None, KeywordIndex(store), KEYWORD_ONLY)
    hits = retriever.retrieve("why is one item split over a line when it fits on one line?", 2)
    assert [p.source for p in hits] == ["lines.md", "items.md"]


def test_diversity_brings_the_second_document_into_the_top_k(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    lava = "The volcano eruption sent lava flows toward the valley while lava fountains rose. "
    paragraphs = "\n\n".join(f"Paragraph {i}. " + lava * 6 for i in range(6))
    write(docs, "long.txt", article("Volcano erupts", "Island Post", "2024-05-01", paragraphs))
    ash = "Several flights were delayed at the airport near the coast during a busy holiday weekend."
    write(docs, "ash.txt", article("Airport queues", "Air Daily", "2024-05-02", ash))
    store = make_store(tmp_path / "index")
    ingest(store, docs, fake_embedder)
    keyword = KeywordIndex(store)
    question = "volcano eruption lava flows valley fountains, and delayed flights"
    capped = HybridRetriever(store, fake_embedder, keyword, HybridOptions(max_per_doc=1, doc_support=0.0))
    uncapped = HybridRetriever(store, fake_embedder, keyword, HybridOptions(max_per_doc=0, doc_support=0.0))
    assert [p.source for p in uncapped.retrieve(question, 2)] == ["long.txt", "long.txt"]
    assert sorted(p.source for p in capped.retrieve(question, 2)) == ["ash.txt", "long.txt"]


@pytest.mark.parametrize(("day", "expected"), [("March 3, 2024", "a.txt"), ("4 March 2024", "b.txt")])
def test_a_named_date_or_publisher_boosts_matching_articles(tmp_path, fake_embedder, day, expected):
    docs = tmp_path / "docs"
    body = "The council approved the new harbour budget after a long debate."
    write(docs, "a.txt", article("Council vote", "Coast Herald", "2024-03-03T10:00:00", body))
    write(docs, "b.txt", article("Council vote", "Coast Herald", "2024-03-04T10:00:00", body))
    write(docs, "c.txt", article("Council vote", "Valley Times", "2024-03-05T10:00:00", body))
    store = make_store(tmp_path / "index")
    ingest(store, docs, fake_embedder)
    retriever = HybridRetriever(store, fake_embedder, KeywordIndex(store), HybridOptions(metadata_boost=0.5))
    assert retriever.retrieve(f"What did the council approve on {day}?", 3)[0].source == expected
    assert retriever.retrieve("What did the Valley Times say the council approved?", 3)[0].source == "c.txt"


def check_keyword_index_follows_ingest(store: Store, docs: Path, embedder, cache_dir: Path | None) -> KeywordIndex:
    """Shared by the embedded and server tests: add, change and delete a document between searches."""
    write(docs, "base.txt", article("Base", "Paper", "2024-01-01", "Ordinary words about the weather today."))
    ingest(store, docs, embedder)
    keyword = KeywordIndex(store, cache_dir)
    retriever = HybridRetriever(store, embedder, keyword, HybridOptions())
    assert not [p for p in retriever.retrieve("quokkaburger", 3) if "quokkaburger" in p.text.lower()]

    write(docs, "new.txt", article("New", "Paper", "2024-01-02", "The quokkaburger stand opened by the pier."))
    ingest(store, docs, embedder)
    found = HybridRetriever(store, None, keyword, KEYWORD_ONLY).retrieve("quokkaburger", 3)
    assert [p.source for p in found] == ["new.txt"]
    assert "quokkaburger" in retriever.retrieve("quokkaburger stand", 3)[0].text

    write(docs, "new.txt", article("New", "Paper", "2024-01-02", "The stand now sells wombatwraps instead."))
    ingest(store, docs, embedder)
    keyword_only = HybridRetriever(store, None, keyword, KEYWORD_ONLY)
    assert keyword_only.retrieve("quokkaburger", 3) == []
    assert [p.source for p in keyword_only.retrieve("wombatwraps", 3)] == ["new.txt"]

    (docs / "new.txt").unlink()
    ingest(store, docs, embedder)
    assert keyword_only.retrieve("wombatwraps", 3) == []
    assert keyword.builds == 4
    return keyword


def test_keyword_index_follows_incremental_ingest_and_caches_by_generation(tmp_path, fake_embedder):
    store = make_store(tmp_path / "index")
    cache = tmp_path / "index" / "keyword"
    check_keyword_index_follows_ingest(store, tmp_path / "docs", fake_embedder, cache)
    assert len(list((cache / store.name).iterdir())) == 1  # older generations are removed

    again = KeywordIndex(make_store(tmp_path / "index"), cache)  # a new process, same index
    assert again.search("weather", 3) and again.builds == 0  # loaded from the cache
    write(tmp_path / "docs", "more.txt", article("More", "Paper", "2024-01-03", "Penguins in the weather."))
    ingest(store, tmp_path / "docs", fake_embedder)
    assert again.search("penguins", 3) and again.builds == 1


def test_a_steady_read_checks_the_store_once_and_the_next_read_sees_a_change(tmp_path, fake_embedder):
    store = make_store(tmp_path / "index")
    docs = tmp_path / "docs"
    write(docs, "base.txt", article("Base", "Paper", "2024-01-01", "Ordinary words about the weather today."))
    ingest(store, docs, fake_embedder)
    keyword = KeywordIndex(store)
    stamps = 0
    stamp = store.stamp

    def counted() -> str:
        nonlocal stamps
        stamps += 1
        return stamp()

    store.stamp = counted  # type: ignore[method-assign]
    with keyword.steady():
        for _ in range(3):
            assert keyword.search("weather", 3) and keyword.idf(["weather"])
        write(docs, "new.txt", article("New", "Paper", "2024-01-02", "The quokkaburger stand opened by the pier."))
        ingest(store, docs, fake_embedder)
        assert keyword.search("quokkaburger", 3) == []  # this read keeps the state it began with
    assert stamps == 1
    assert keyword.search("quokkaburger", 3)  # the next one sees the new document
    assert keyword.builds == 2


def test_rebuild_is_not_mistaken_for_the_cached_generation(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    write(docs, "a.txt", article("A", "Paper", "2024-01-01", "Alpha words about kiwis and tides."))
    store = make_store(tmp_path / "index")
    ingest(store, docs, fake_embedder)
    cache = tmp_path / "cache"
    assert KeywordIndex(store, cache).search("kiwis", 3)
    store.reset()
    write(docs, "a.txt", article("A", "Paper", "2024-01-01", "Other words about lemurs."))
    ingest(store, docs, fake_embedder)  # generation 1 again, but a new collection
    fresh = KeywordIndex(store, cache)
    assert fresh.search("kiwis", 3) == [] and fresh.search("lemurs", 3)


# -- over a real `chroma run` server -------------------------------------------------------------
@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free 127.0.0.1 port (tests/chroma_server.py), as a client."""
    with run_chroma_server(tmp_path / "server-data") as (host, port):
        yield open_client(None, host, port)


@pytest.mark.server
def test_keyword_index_follows_incremental_ingest_on_a_chroma_server(tmp_path, fake_embedder, chroma_server):
    store = Store(chroma_server, "server-index", FINGERPRINT, create=True)
    check_keyword_index_follows_ingest(store, tmp_path / "docs", fake_embedder, None)


def test_passage_choice_prefers_the_chunk_whose_one_sentence_matches_the_question(tmp_path, fake_embedder):
    """Chunk-level BM25 favours the chunk that repeats the question's words in many sentences; the
    passage choice picks the chunk with the one sentence that says what is asked."""
    docs = tmp_path / "docs"
    spread = " ".join(
        f"The harbour was busy on day {i}. A crane stood idle. Someone lifted a box. "
        f"The sky was blue. A container waited."
        for i in range(12)
    )
    filler = " ".join(f"Gulls circled the quay on morning {i} while fishermen mended their nets." for i in range(8))
    answer = "The harbour crane lifted the blue container onto the ship at dawn."
    write(docs, "port.txt", article("Port diary", "Quay News", "2024-06-01", f"{spread}\n\n{filler} {answer}"))
    store = make_store(tmp_path / "index")
    ingest(store, docs, fake_embedder)
    assert len(store.reader.chunks_of(["port.txt"])) >= 2
    keyword = KeywordIndex(store)
    question = "Which harbour crane lifted the blue container?"
    plain = HybridRetriever(store, None, keyword, replace(KEYWORD_ONLY, max_per_doc=1, passage_choice=False))
    chosen = HybridRetriever(store, None, keyword, replace(KEYWORD_ONLY, max_per_doc=1, passage_choice=True))
    assert answer not in plain.retrieve(question, 1)[0].text
    assert answer in chosen.retrieve(question, 1)[0].text
    with_dense = HybridRetriever(store, fake_embedder, keyword, HybridOptions())
    assert answer in with_dense.retrieve(question, 1)[0].text


def test_idf_ranks_rare_terms_above_common_ones(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    for i in range(4):
        write(docs, f"d{i}.txt", article(f"Day {i}", "Paper", "2024-01-01", f"Weather report {i}: rain again."))
    write(docs, "x.txt", article("Odd", "Paper", "2024-01-02", "Rain and a quokka at the station."))
    store = make_store(tmp_path / "index")
    ingest(store, docs, fake_embedder)
    idf = KeywordIndex(store).idf(["rain", "quokka", "unseenword"])
    assert set(idf) == {"rain", "quokka"}
    assert idf["quokka"] > idf["rain"] > 0


def test_cover_gives_each_needed_label_a_place_in_rank_order():
    items = ["a1", "a2", "a3", "b1", "c1", "d1"]
    labels = ["A", "A", "A", "B", "C", "D"]
    assert cover(items, labels, {"A", "C"}, 2) == ["a1", "c1"]
    assert cover(items, labels, {"A", "C"}, 3) == ["a1", "a2", "c1"]
    assert cover(items, labels, {"B", "D"}, 3) == ["a1", "b1", "d1"]
    assert cover(items, labels, set(), 3) == ["a1", "a2", "a3"]
    assert cover(items, labels, {"Z"}, 3) == ["a1", "a2", "a3"]  # a label nobody has takes no place
    assert cover(items, labels, {"A", "B", "C", "D"}, 2) == ["a1", "b1"]  # more needs than places: rank order


def test_a_name_is_looked_up_in_the_section_it_names(tmp_path, fake_embedder):
    docs = tmp_path / "docs"
    write(
        docs,
        "guide.md",
        "# Dynamic pages\n\n## Waiting for elements\n\nPoll the page until the element you need is present.\n\n"
        "## Using scrapy-playwright\n\nscrapy-playwright renders pages in a real browser before parsing them.\n",
    )
    write(docs, "news.md", "# Release notes\n\n## 2.13\n\n- Mentioned scrapy-playwright on the dynamic pages page.\n")
    store = make_store(tmp_path / "index")
    ingest(store, docs, fake_embedder)
    retriever = HybridRetriever(store, None, KeywordIndex(store), KEYWORD_ONLY)
    found = retriever.lookup("scrapy-playwright", 3)
    assert found[0].source == "guide.md" and found[0].section.endswith("Using scrapy-playwright")
    assert {p.source for p in found} == {"guide.md", "news.md"}
    assert HybridRetriever(store, None, None, KEYWORD_ONLY).lookup("scrapy-playwright", 3) == []


def test_the_first_dense_search_reads_ids_and_a_chunk_the_keyword_index_lacks_is_read_for_its_document(
    tmp_path, fake_embedder
):
    store = indexed(
        tmp_path,
        fake_embedder,
        {
            "base.txt": article("Base", "Paper", "2024-01-01", "Ordinary words about the weather today."),
            "pier.txt": article("Pier", "Gazette", "2024-01-02", "The old pier was rebuilt in stone."),
        },
    )
    docs = tmp_path / "docs"
    keyword = KeywordIndex(store)
    retriever = HybridRetriever(store, fake_embedder, keyword, HybridOptions(keyword_weight=0.0))
    searched: list[str] = []
    query = store.reader.query

    def counted(embedding, k, where=None):  # the chunks' text and metadata: what the first search no longer reads
        searched.append("query")
        return query(embedding, k, where)

    store.reader.query = counted  # type: ignore[method-assign]
    assert retriever.retrieve("was the pier rebuilt in stone?", 1)[0].source == "pier.txt"
    assert searched == []  # ids and distances only; each document from the keyword index
    with keyword.steady():  # the keyword index stays as it was: the new chunk is unknown to it
        write(docs, "quay.txt", article("Quay", "Gazette", "2024-01-03", "The quay was paved with granite blocks."))
        ingest(store, docs, fake_embedder)
        assert keyword.info_of(store.reader.nearest(fake_embedder.embed(["granite quay"])[0], 1)[0][0]) is None
        found = retriever.retrieve("was the quay paved with granite blocks?", 1)
    assert found[0].source == "quay.txt" and "granite" in found[0].text
