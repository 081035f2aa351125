"""Length-bucketed batches and mean pooling over texts and spans, with the model's real tokenizer and a fake backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from ingest.embedding.embedder import resolve_model
from ingest.embedding.encoder import CALL_COST_TOKENS, PoolingEncoder, TokenMap, bucket
from ingest.index.sentence_cache import chunk_sentences

TOKENIZER = Path(resolve_model("all-MiniLM-L6-v2")) / "tokenizer.json"
PIECES = Tokenizer.from_file(str(TOKENIZER))  # the same word pieces, to predict the pooled vectors
PIECES.no_padding()


class TableBackend:
    """Token state = a fixed random row per token id (no context): pooled vectors are easy to predict."""

    name = "table"

    def __init__(self) -> None:
        self.table = np.random.default_rng(0).standard_normal((40_000, 8)).astype(np.float32)
        self.widths: list[tuple[int, int]] = []

    def pooled(self, ids, mask, weights):
        self.widths.append(ids.shape)
        states = self.table[ids] * mask[..., None]
        return np.einsum("brt,btd->brd", weights, states)


def mean_of(backend: TableBackend, ids: list[int]) -> np.ndarray:
    v = backend.table[ids].mean(axis=0)
    return v / np.linalg.norm(v)


@pytest.fixture
def encoder() -> PoolingEncoder:
    return PoolingEncoder("fake", TOKENIZER, 256, TableBackend(), batch_tokens=64, max_batch=4)


def test_bucket_groups_similar_lengths_within_the_budget():
    lengths = [5, 200, 7, 6, 190, 8, 300]
    groups = bucket(lengths, max_tokens=400, max_texts=3)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        assert len(g) <= 3
        assert len(g) == 1 or len(g) * max(lengths[i] for i in g) <= 400
    assert all(max(lengths[i] for i in g) < 10 or min(lengths[i] for i in g) > 100 for g in groups)  # short apart
    assert [6] in groups  # the 300-token text, over the budget, alone


def test_bucket_cuts_a_mixed_batch_where_padding_costs_more_than_a_call():
    lengths = [12, 14, 15, 18, 20, 22, 25, 28, 30, 33, 40, 44, 52, 60, 88, 95]  # an answer's 16 sentences
    groups = bucket(lengths, max_tokens=8192, max_texts=512)
    padded = sum(len(g) * max(lengths[i] for i in g) for g in groups)
    assert 1 < len(groups) < len(lengths) // 2
    assert padded + CALL_COST_TOKENS * len(groups) < len(lengths) * max(lengths) + CALL_COST_TOKENS
    assert bucket([30] * 16, max_tokens=8192, max_texts=512) == [list(range(16))]  # equal lengths: one call


def test_token_map_finds_a_spans_pieces_and_refuses_a_truncated_one():
    tokens = TokenMap([(0, 0), (0, 3), (4, 9), (9, 10), (11, 15), (0, 0)], [1, 0, 0, 0, 0, 1])
    assert tokens.tokens((4, 10)) == [2, 3]
    assert tokens.tokens((0, 15)) == [1, 2, 3, 4]
    assert tokens.tokens((11, 20)) is None  # runs past the last piece read
    assert tokens.tokens((10, 11)) is None  # only whitespace


def test_text_vectors_are_the_mean_of_every_token_and_ignore_padding(encoder):
    backend = encoder.backend
    assert isinstance(backend, TableBackend)
    texts = ["Short one.", "A much longer text that pads the short one when they share a batch " * 3, "x"]
    together = encoder.embed(texts)
    for text, vector in zip(texts, together):
        alone = encoder.embed([text])[0]
        assert vector == pytest.approx(alone, abs=1e-6)
        ids = PIECES.encode(text).ids  # with [CLS] and [SEP], as sentence-transformers pools
        assert vector == pytest.approx(mean_of(backend, ids).tolist(), abs=1e-6)


def test_span_vectors_pool_the_sentences_tokens_in_one_pass(encoder):
    backend = encoder.backend
    assert isinstance(backend, TableBackend)
    text = "The harbour opened in May. Its first ship carried copper from the northern mines!"
    plan = chunk_sentences(text, "Header line\n" + text)  # spans shifted past the embedded header
    assert [("Header line\n" + text)[a:b] for a, b in plan.spans] == plan.texts
    (result,) = encoder.embed_spans(["Header line\n" + text], [plan.spans])
    assert len(backend.widths) == 1
    for sentence, vector in zip(plan.texts, result.spans):
        ids = PIECES.encode(sentence, add_special_tokens=False).ids
        assert vector == pytest.approx(mean_of(backend, ids).tolist(), abs=1e-6)


def test_results_come_back_in_the_order_asked_across_batches(encoder):
    texts = [("word " * n).strip() + "." for n in (40, 2, 25, 1, 9, 3, 30)]
    results = encoder.embed_spans(texts, [[(0, 4)]] * len(texts))
    assert len(results) == len(texts)
    assert len(encoder.backend.widths) > 1  # several batches
    for text, result in zip(texts, results):
        assert result.vector == pytest.approx(encoder.embed([text])[0], abs=1e-6)
        assert result.spans[0] is not None


def test_a_span_past_the_models_window_has_no_vector():
    backend = TableBackend()
    short = PoolingEncoder("fake", TOKENIZER, 16, backend, batch_tokens=64, max_batch=4)
    text = "First sentence is here. " + "Second sentence goes on and on well past the window of sixteen pieces."
    (result,) = short.embed_spans([text], [[(0, 23), (24, len(text))]])
    assert result.spans[0] is not None and result.spans[1] is None
