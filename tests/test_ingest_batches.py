"""Ingest in batches: small documents share store calls, a large one spans batches unseen, progress counts writes."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from ingest.index.chroma_client import open_client
from ingest.index.records import LIVE, SOURCE
from ingest.index.sentence_cache import chunk_sentences, quotable_sentences, sentence_key
from ingest.report import IngestProgress
from tests.support import FakeEmbedder, FakeSpanEmbedder, TappedClient, make_ingestor, make_store, raw_collection

WRITES = {"add", "upsert", "update", "delete", "modify"}
WORDS = "river market council school harbour energy farmer budget station museum bridge storm league".split()


def write_notes(folder: Path, n: int) -> None:
    """``n`` one-sentence files, each a chunk of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        words = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(8))
        (folder / f"note{i:04d}.txt").write_text(f"Note {i} says the {words} met on day {i}.\n")


def write_long(path: Path, paragraphs: int) -> None:
    """One document of many chunks (about one chunk per two paragraphs at the tests' chunk size)."""
    paras = [
        f"Paragraph {p} tells how the {WORDS[p % len(WORDS)]} and the {WORDS[(p * 7) % len(WORDS)]} "
        + " ".join(WORDS[(p * 3 + j) % len(WORDS)] for j in range(50))
        + "."
        for p in range(paragraphs)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(paras) + "\n")


def counted_store(index: Path, calls: Counter, after=None):
    def count(role, method, kwargs):
        calls[(role, method)] += 1

    return make_store(index, client=TappedClient(open_client(index), before=count, after=after or (lambda *a: None)))


def test_many_small_files_share_a_handful_of_store_calls(tmp_path):
    docs = tmp_path / "docs"
    write_notes(docs, 300)
    calls: Counter = Counter()
    store = counted_store(tmp_path / "idx", calls)
    report = make_ingestor(store, FakeEmbedder(), batch_chunks=256).run(docs)
    assert report.added == 300 and report.chunks == 300 and store.reader.count() == 300
    # two batches of a few calls each, not half a dozen per document
    assert sum(calls.values()) < 60, calls
    assert calls[("chunks", "add")] == 2 and calls[("chunks", "update")] == 2

    calls.clear()
    for path in docs.iterdir():  # touched, not changed: the new dates are recorded in one call
        os.utime(path, ns=(1, 1))
    report = make_ingestor(store, FakeEmbedder()).run(docs)
    assert report.unchanged == 300 and calls[("docs", "upsert")] == 1

    calls.clear()
    for path in sorted(docs.iterdir())[:100]:
        path.unlink()
    report = make_ingestor(store, FakeEmbedder()).run(docs)
    assert report.removed == 100 and store.reader.count() == 200
    assert calls[("chunks", "delete")] == 1 and calls[("docs", "delete")] == 1


def test_a_document_larger_than_a_batch_is_written_in_batches_and_shown_at_once(tmp_path):
    docs = tmp_path / "docs"
    write_long(docs / "changelog.md", 40)
    visible_at_adds: list[int] = []
    calls: Counter = Counter()

    def watch(role, method, kwargs):
        if role == "chunks" and method == "add":
            live = raw_collection(store).get(where={"$and": [{SOURCE: "changelog.md"}, {LIVE: True}]}, include=[])
            visible_at_adds.append(len(live["ids"]))

    store = counted_store(tmp_path / "idx", calls, after=watch)
    report = make_ingestor(store, FakeEmbedder(), batch_chunks=5).run(docs)
    assert report.chunks > 15
    assert len(visible_at_adds) == -(-report.chunks // 5)  # one add per batch: durable as it goes
    assert set(visible_at_adds) == {0}  # never visible in part
    assert calls[("chunks", "update")] == 1  # then one flip shows all of it
    assert store.reader.count() == report.chunks


def test_a_run_stopped_mid_document_loses_at_most_one_batch(tmp_path):
    docs = tmp_path / "docs"
    write_long(docs / "changelog.md", 40)
    adds = Counter()

    def stop_at_third_add(role, method, kwargs):
        if role == "chunks" and method == "add":
            adds["n"] += 1
            if adds["n"] == 3:
                raise KeyboardInterrupt  # killed while embedding the third batch

    index = tmp_path / "idx"
    store = make_store(index, client=TappedClient(open_client(index), before=stop_at_third_add))
    with pytest.raises(KeyboardInterrupt):
        make_ingestor(store, FakeEmbedder(), batch_chunks=5).run(docs)
    assert store.reader.count() == 0  # nothing of the document is visible
    embedder = FakeEmbedder()
    report = make_ingestor(make_store(index), embedder, batch_chunks=5).run(docs)
    assert report.added + report.updated == 1
    assert report.embedded == report.chunks - 2 * 5  # the two batches written before the stop are reused


def test_progress_counts_what_is_written(tmp_path, docs_dir):
    write_long(docs_dir / "changelog.md", 40)
    events: list[IngestProgress] = []
    store = make_store(tmp_path / "idx")
    report = make_ingestor(store, FakeEmbedder(), batch_chunks=5).run(docs_dir, progress=events.append)
    files = report.added + len(report.failed)
    assert [e.files_done for e in events] == sorted(e.files_done for e in events)
    assert [e.chunks_written for e in events] == sorted(e.chunks_written for e in events)
    last = events[-1]
    assert (last.files_done, last.files_total, last.chunks_written) == (files, files, report.chunks)
    assert last.work_done == pytest.approx(last.work_total) and last.work_total > 0
    # within the large document the chunks and the work move batch by batch, before it counts as a file done
    during = [e for e in events if e.current == "changelog.md"]
    assert len({e.chunks_written for e in during}) > 3
    assert len({round(e.work_done) for e in during}) > 3
    # files count as soon as they are read, so the count moves before the first chunk is written
    assert [e.files_seen for e in events] == sorted(e.files_seen for e in events) and last.files_seen == files
    assert any(e.files_seen > e.files_done for e in events)

    events.clear()
    make_ingestor(store, FakeEmbedder()).run(docs_dir, progress=events.append)
    assert events[-1].files_done == files and events[-1].chunks_written == 0 and events[-1].work_total == 0


def test_a_span_encoder_fills_the_sentence_cache_from_the_chunk_pass(tmp_path, docs_dir):
    embedder = FakeSpanEmbedder()
    store = make_store(tmp_path / "idx")
    report = make_ingestor(store, embedder).run(docs_dir)
    texts = [c.text for c in store.reader.iter_chunks()]
    sentences = quotable_sentences(texts)
    assert report.sentences_embedded == len(sentences) > 10
    assert embedder.texts_embedded == report.embedded  # no second model pass over the sentences
    cached = store.sentences.get([sentence_key(s) for s in sentences])
    assert len(cached) == len(sentences)
    chunk = next(c for c in store.reader.iter_chunks() if len(chunk_sentences(c.text, c.text).texts) > 1)
    plan = chunk_sentences(chunk.text, chunk.text)
    pooled = embedder.embed_spans([chunk.text], [plan.spans])[0].spans
    for text, vector in zip(plan.texts, pooled):
        assert cached[sentence_key(text)] == pytest.approx(vector)  # the in-context vector, not the sentence alone
        assert cached[sentence_key(text)] != pytest.approx(embedder.embed([text])[0])


def test_sentences_the_pass_could_not_pool_are_embedded_alone(tmp_path, docs_dir):
    embedder = FakeSpanEmbedder(window=300)  # a short "model window": later sentences are not pooled
    store = make_store(tmp_path / "idx")
    report = make_ingestor(store, embedder).run(docs_dir)
    sentences = quotable_sentences(c.text for c in store.reader.iter_chunks())
    alone = embedder.texts_embedded - report.embedded
    assert alone > 0 and embedder.spans_pooled > 0
    assert report.sentences_embedded == len(sentences)
    assert len(store.sentences.get([sentence_key(s) for s in sentences])) == len(sentences)


def test_separate_sentence_vectors_embed_each_sentence_alone(tmp_path, docs_dir):
    embedder = FakeSpanEmbedder()
    store = make_store(tmp_path / "idx")
    ingestor = make_ingestor(store, embedder)
    ingestor.pool_sentences = False
    report = ingestor.run(docs_dir)
    assert embedder.spans_pooled == 0 and embedder.texts_embedded == report.embedded + report.sentences_embedded
    sentence = quotable_sentences(c.text for c in store.reader.iter_chunks())[0]
    assert store.sentences.get([sentence_key(sentence)])[sentence_key(sentence)] == pytest.approx(
        embedder.embed([sentence])[0]
    )
