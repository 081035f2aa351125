"""Sentences are embedded at ingest, so answering runs the model on the question alone."""

from __future__ import annotations

import logging

import pytest

from bot.answering.answer import AnswerOptions, answer
from bot.retrieval.base import DenseRetriever
from ingest.errors import IndexDamagedError, StoreUnavailableError
from ingest.index.sentence_cache import CachedEmbedder, quotable_sentences, sentence_key
from tests.support import make_ingestor, make_store


@pytest.fixture
def indexed(tmp_path, docs_dir, fake_embedder):
    store = make_store(tmp_path / "idx")
    report = make_ingestor(store, fake_embedder).run(docs_dir)
    return store, report


def test_ingest_caches_every_quotable_sentence(indexed, fake_embedder):
    store, report = indexed
    texts = [c.text for c in store.reader.iter_chunks()]
    sentences = quotable_sentences(texts)
    assert report.sentences_embedded == len(sentences) > 10
    cached = store.sentences.get([sentence_key(s) for s in sentences])
    assert len(cached) == len(sentences)
    probe = sentences[3]
    assert cached[sentence_key(probe)] == pytest.approx(fake_embedder.embed([probe])[0])


def test_answering_embeds_only_the_question(indexed, fake_embedder):
    store, _ = indexed
    cached = CachedEmbedder(fake_embedder, store)
    retriever = DenseRetriever(store, cached)
    before = fake_embedder.texts_embedded
    result = answer(
        "How often does a sourdough starter need feeding at room temperature?",
        [],
        retriever,
        embed=cached.embed,
        options=AnswerOptions(answer_confidence=0.0),
    )
    assert not result.abstained and "once or twice a day" in result.text
    assert fake_embedder.texts_embedded - before == 1  # the question, once (remembered for the answer step)


def test_cache_gives_the_models_vectors_in_order(indexed, fake_embedder):
    store, _ = indexed
    cached = CachedEmbedder(fake_embedder, store, memory=2)
    texts = ["A brand new sentence that was never ingested before.", "Sea anemones close up.", "x"]
    for order in (texts, list(reversed(texts)), texts):
        for got, want in zip(cached.embed(order), fake_embedder.embed(order), strict=True):
            assert got == pytest.approx(want)


def test_reingest_of_a_renamed_file_embeds_no_sentences(tmp_path, docs_dir, fake_embedder):
    store = make_store(tmp_path / "idx")
    ingestor = make_ingestor(store, fake_embedder)
    ingestor.run(docs_dir)
    (docs_dir / "tide-pools.md").rename(docs_dir / "pools.md")
    report = ingestor.run(docs_dir)
    assert report.sentences_embedded == 0 and report.embedded == 0


def test_questions_are_never_taken_from_the_sentence_cache(indexed, fake_embedder):
    store, _ = indexed
    sentence = quotable_sentences(c.text for c in store.reader.iter_chunks())[0]
    planted = [1.0] + [0.0] * (fake_embedder.dim - 1)  # an in-context vector differs from the sentence alone
    store.sentences.put({sentence_key(sentence): planted})
    cached = CachedEmbedder(fake_embedder, store)
    assert cached.embed([sentence])[0] == pytest.approx(planted)  # an answer sentence: the cached vector
    fresh = CachedEmbedder(fake_embedder, store)
    own = fake_embedder.embed([sentence])[0]
    assert fresh.standalone.embed([sentence])[0] == pytest.approx(own)  # the same text asked as a question
    assert fresh.embed([sentence])[0] == pytest.approx(own)  # the answer step then finds the question's own vector


def test_an_unreadable_sentence_cache_costs_speed_not_answers(indexed, fake_embedder, monkeypatch, caplog):
    store, _ = indexed
    cached = CachedEmbedder(fake_embedder, store)
    texts = ["Sea anemones close up.", "A sentence nobody ingested."]

    def damaged(keys):
        raise IndexDamagedError("the index is damaged: sentences segment unreadable")

    monkeypatch.setattr(store.sentences, "get", damaged)
    with caplog.at_level(logging.WARNING, logger="ingest.index.sentence_cache"):
        for _ in range(2):
            got = cached.embed(texts)
            cached._memory.clear()
    assert got == [pytest.approx(v) for v in fake_embedder.embed(texts)]
    warnings = [r for r in caplog.records if "sentence cache cannot be read" in r.getMessage()]
    assert len(warnings) == 1  # said once, not per question


def test_an_unwritable_sentence_cache_does_not_stop_the_ingest(tmp_path, docs_dir, fake_embedder, monkeypatch, caplog):
    store = make_store(tmp_path / "idx")
    calls = []

    def refuse(vectors):
        calls.append(len(vectors))
        raise StoreUnavailableError("could not save changes to the index (disk full or read-only?)")

    monkeypatch.setattr(store.sentences, "put", refuse)
    ingestor = make_ingestor(store, fake_embedder, batch_chunks=2)
    with caplog.at_level(logging.WARNING, logger="ingest.pipeline"):
        report = ingestor.run(docs_dir)
    assert report.added == len(list(docs_dir.iterdir())) and report.failed == []
    assert report.sentences_embedded == 0 and len(calls) == 1  # tried once, then the run went on without it
    assert store.manifest.documents().keys() == {p.name for p in docs_dir.iterdir()}
    assert any("sentence cache cannot be written" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    (docs_dir / "new.md").write_text("# New\n\nA fresh page about kelp forests growing along the coast.\n")
    assert ingestor.run(docs_dir).sentences_embedded > 0  # the next run caches again
