import pytest

from ingest.errors import IndexMismatchError
from ingest.index.chroma_client import open_client
from ingest.index.manifest import DocRecord
from ingest.index.queries import SEARCH_EF
from ingest.index.records import ChunkMeta, ChunkRow
from ingest.index.store import Store
from ingest.index.writes import chunk_id
from tests.support import FINGERPRINT, make_store, raw_collection


def rows(source: str, doc_hash: str, texts: list[str]) -> list[ChunkRow]:
    out = []
    for i, text in enumerate(texts):
        vec = [0.0] * 8
        vec[i % 8] = 1.0
        out.append(
            ChunkRow(
                chunk_id(source, doc_hash, i),
                text,
                vec,
                ChunkMeta(source=source, doc_hash=doc_hash, chunk_hash=f"{doc_hash}{i}", title="T"),
            )
        )
    return out


def test_write_replace_and_remove_a_document(tmp_path):
    store = make_store(tmp_path / "idx")
    store.writer.write_document(DocRecord("a.txt", "h1", 10, 1, 2), rows("a.txt", "h1", ["one", "two"]))
    assert store.reader.count() == 2
    store.writer.write_document(DocRecord("a.txt", "h2", 11, 2, 3), rows("a.txt", "h2", ["uno", "dos", "tres"]))
    texts = sorted(c.text for c in store.reader.iter_chunks())
    assert texts == ["dos", "tres", "uno"]  # the old version is gone, no duplicates
    assert store.manifest.documents()["a.txt"].content_hash == "h2"
    store.writer.remove_document("a.txt")
    assert store.reader.count() == 0 and store.manifest.documents() == {}


def test_query_sees_only_live_chunks_and_scores_by_cosine(tmp_path):
    store = make_store(tmp_path / "idx")
    store.writer.write_document(DocRecord("a.txt", "h1", 1, 1, 2), rows("a.txt", "h1", ["first", "second"]))
    # an interrupted run leaves invisible chunks behind
    raw_collection(store).upsert(
        ids=["ghost"],
        embeddings=[[1.0] + [0.0] * 7],
        documents=["ghost"],
        metadatas=[{"source": "b.txt", "live": False}],
    )
    hits = store.reader.query([1.0] + [0.0] * 7, k=5)
    assert [h.text for h in hits][0] == "first"
    assert "ghost" not in [h.text for h in hits]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert store.writer.drop_hidden() == 1


def test_many_hidden_chunks_nearest_the_query_are_never_returned(tmp_path):
    """More hidden chunks than the unfiltered search's slack, all closer than the live ones: the filtered search runs."""
    store = make_store(tmp_path / "idx")
    store.writer.write_document(DocRecord("a.txt", "h1", 1, 1, 3), rows("a.txt", "h1", ["first", "second", "third"]))
    ghosts = [f"ghost{i}" for i in range(20)]
    raw_collection(store).upsert(
        ids=ghosts,
        embeddings=[[1.0, 0.01 * i] + [0.0] * 6 for i in range(20)],
        documents=ghosts,
        metadatas=[{"source": "b.txt", "live": False}] * 20,
    )
    hits = store.reader.query([1.0, 0.5] + [0.0] * 6, k=3)
    assert sorted(h.text for h in hits) == ["first", "second", "third"]
    assert [h.text for h in store.reader.query([1.0, 0.5] + [0.0] * 6, k=1)] == ["first"]
    assert store.writer.drop_hidden() == 20
    assert [h.text for h in store.reader.query([0.0, 1.0] + [0.0] * 6, k=1)] == ["second"]


def test_embeddings_are_found_by_content_hash(tmp_path):
    store = make_store(tmp_path / "idx")
    store.writer.write_document(DocRecord("a.txt", "h1", 1, 1, 2), rows("a.txt", "h1", ["first", "second"]))
    found = store.writer.embeddings_by_hash(["h10", "h11", "nope"])
    assert set(found) == {"h10", "h11"}
    assert found["h11"][1] == pytest.approx(1.0)


def test_fingerprint_mismatch_names_both_and_the_fix(tmp_path):
    make_store(tmp_path / "idx")
    other = Store(
        open_client(tmp_path / "idx"), "test-index", {**FINGERPRINT, "embed_model": "other-model"}, create=False
    )
    with pytest.raises(IndexMismatchError) as err:
        other.check_fingerprint()
    message = str(err.value)
    assert "fake-bow" in message and "other-model" in message and "--rebuild" in message


def test_an_int8_index_is_never_read_with_float_vectors_and_the_message_names_the_setting(tmp_path):
    client = open_client(tmp_path / "idx")
    Store(client, "int8-index", {**FINGERPRINT, "embed_precision": "int8"}, create=True)
    floats = Store(client, "int8-index", {**FINGERPRINT, "embed_precision": "float"}, create=False)
    with pytest.raises(IndexMismatchError, match="set CITEBOT_EMBED_PRECISION=int8, or run `citebot ingest --rebuild`"):
        floats.check_fingerprint()


def test_an_index_from_before_precision_was_recorded_reads_as_float(tmp_path):
    client = open_client(tmp_path / "idx")
    Store(client, "old", FINGERPRINT, create=True)  # no embed_precision key, as older citebots wrote
    Store(client, "old", {**FINGERPRINT, "embed_precision": "float"}, create=False).check_fingerprint()
    with pytest.raises(IndexMismatchError, match="embed_precision: index has 'float', settings give 'int8'"):
        Store(client, "old", {**FINGERPRINT, "embed_precision": "int8"}, create=False).check_fingerprint()


def test_missing_index_is_not_created_by_readers(tmp_path):
    store = Store(open_client(tmp_path / "idx"), "absent", FINGERPRINT, create=False)
    assert not store.exists and not store.reader.has_chunks() and store.reader.query([1.0], 3) == []


def test_generation_counts_changes(tmp_path):
    store = make_store(tmp_path / "idx")
    assert store.generation() == 0
    store.bump_generation()
    store.bump_generation()
    assert store.generation() == 2
    store.check_fingerprint()  # bumping keeps the fingerprint


def test_chunks_of_returns_the_live_chunks_of_the_asked_documents(tmp_path):
    store = make_store(tmp_path / "idx")
    store.writer.write_document(DocRecord("a.txt", "h1", 1, 1, 2), rows("a.txt", "h1", ["first", "second"]))
    store.writer.write_document(DocRecord("b.txt", "h2", 1, 1, 1), rows("b.txt", "h2", ["other"]))
    raw_collection(store).upsert(
        ids=["ghost"],
        embeddings=[[1.0] + [0.0] * 7],
        documents=["ghost"],
        metadatas=[{"source": "a.txt", "live": False}],
    )
    plain = store.reader.chunks_of(["a.txt"])
    assert sorted(c.text for c in plain) == ["first", "second"]
    assert all(c.embedding is None for c in plain)
    both = store.reader.chunks_of(["a.txt", "b.txt"], embeddings=True)
    assert sorted(c.text for c in both) == ["first", "other", "second"]
    first = next(c for c in both if c.text == "first")
    assert list(first.embedding)[0] == pytest.approx(1.0)
    assert store.reader.chunks_of([]) == []


def test_the_chunk_search_is_broad_enough_and_older_indexes_are_widened_by_a_writer(tmp_path):
    """Chroma's default search breadth misses nearest chunks depending on write order (see SEARCH_EF)."""
    store = make_store(tmp_path / "idx")
    assert raw_collection(store).configuration["hnsw"]["ef_search"] == SEARCH_EF

    client = open_client(tmp_path / "old")
    client.create_collection("test-index", embedding_function=None, metadata={**FINGERPRINT, "generation": 0})
    assert client.get_collection("test-index").configuration["hnsw"]["ef_search"] < SEARCH_EF
    Store(client, "test-index", FINGERPRINT, create=False)  # a reader changes nothing
    assert client.get_collection("test-index").configuration["hnsw"]["ef_search"] < SEARCH_EF
    Store(client, "test-index", FINGERPRINT, create=True)
    assert client.get_collection("test-index").configuration["hnsw"]["ef_search"] == SEARCH_EF
