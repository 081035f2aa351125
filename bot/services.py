"""The composition root: Settings -> embedder, store, chunker, retriever, ingestor, answerer.

Everything is built lazily on first use, so commands that need no model never load one. Any part
can be passed in instead (keyword-only arguments): tests and benchmarks swap in fakes that way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from bot import components
from bot.answering.answer import answer
from bot.answering.evidence import RarityFn
from bot.answering.focus import CountFn
from bot.answering.llm import ChatModel
from bot.answering.prompts import Prompts, load_prompts
from bot.answering.subject import LookupFn
from bot.errors import USER_ERRORS
from bot.index_access import IndexAccess
from bot.questions.store import QuestionLog
from bot.retrieval.base import DenseRetriever, Retriever
from bot.retrieval.hybrid import HybridOptions, HybridRetriever
from bot.retrieval.keyword import KeywordIndex
from bot.retrieval.scope import Scope
from bot.retrieval.sections import whole_sections
from bot.schema import Answer, IngestReport, Passage, Turn
from bot.settings import Settings
from bot.source_catalog import SourceCatalog
from ingest.documents.chunking import Chunker
from ingest.documents.load_worker import LoadWorker
from ingest.embedding.devices import EncoderChoice
from ingest.embedding.embedder import Embedder, token_counter
from ingest.errors import CollectionGoneError
from ingest.index.chroma_client import Place
from ingest.index.sentence_cache import CachedEmbedder
from ingest.index.store import Store
from ingest.pipeline import Ingestor

log = logging.getLogger(__name__)
T = TypeVar("T")


class Services:
    """Wires the parts the settings describe; front ends hold one and call its methods.

    Keyword-only arguments replace a part instead of building it from the settings: ``embedder``
    (ingest and, without an ONNX export, questions), ``query_embedder`` (questions and answer
    sentences), ``llm`` (with its ``prompts``), ``store`` (an open index). ``models_from`` shares another
    Services' models, LLM and questions log: one process serving several document sets loads them once.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        query_embedder: Embedder | None = None,
        llm: ChatModel | None = None,
        prompts: Prompts | None = None,
        store: Store | None = None,
        models_from: Services | None = None,
        questions: QuestionLog | None = None,
    ) -> None:
        self.settings = settings
        self._models_from = models_from
        self._questions = questions
        self._embedder = embedder
        self._query_embedder = query_embedder
        self._llm = llm
        self._prompts = prompts
        self.index = IndexAccess(settings, store)

    # -- parts -----------------------------------------------------------------------------
    @cached_property
    def encoder_choice(self) -> EncoderChoice:
        """How the model runs at ingest (backend, device, precision, batch size); a bad combination is an error."""
        return components.encoder_choice(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        """The model that embeds chunks at ingest (unless one was passed in); see ``components.ingest_embedder``."""
        if self._embedder is not None:
            return self._embedder
        if self._models_from is not None:
            return self._models_from.embedder
        return components.ingest_embedder(self.settings, self.encoder_choice)

    @cached_property
    def query_embedder(self) -> Embedder:
        """The encoder for questions and answer sentences: the cached ONNX export when allowed and present."""
        if self._query_embedder is not None:
            return self._query_embedder
        if self._embedder is not None:
            return self._embedder  # a model passed in serves questions too
        if self._models_from is not None:
            return self._models_from.query_embedder
        return components.query_embedder(self.settings, self.encoder_choice, lambda: self.embedder)

    @cached_property
    def answer_embedder(self) -> CachedEmbedder:
        """Question-time embeddings: memory, then the index's sentence cache (when on), then the query encoder."""
        return CachedEmbedder(
            self.query_embedder, self.ready_store(), lookup=components.caches_sentences(self.settings)
        )

    @property
    def place(self) -> Place:
        """Where the index lives (embedded folder or server), with the server timeouts."""
        return self.index.place

    def store(self, *, create: bool = False) -> Store:
        """The index; with ``create`` it is made if missing. Checked against the settings either way."""
        return self.index.store(create=create)

    def ready_store(self) -> Store:
        """The index, which must hold documents (else a NotIngestedError saying how to fill it)."""
        return self.index.ready()

    @cached_property
    def retriever(self) -> Retriever:
        s = self.settings
        store = self.ready_store()
        scope = Scope(store, s.sources) if s.sources else None
        if s.retrieval_mode == "dense":
            return DenseRetriever(store, self.answer_embedder.standalone, scope.where if scope else None)
        cache = s.index_dir / "keyword" if s.keyword_cache and not s.chroma_host else None
        options = HybridOptions.from_settings(s)
        embedder = None if s.retrieval_mode == "keyword" else self.answer_embedder.standalone
        return HybridRetriever(store, embedder, KeywordIndex(store, cache), options, scope)

    @property
    def keyword(self) -> KeywordIndex | None:
        """The keyword index: its IDF (``rarity``) and chunk counts (``term_counts``) judge answerability."""
        return self.retriever.keyword if isinstance(self.retriever, HybridRetriever) else None

    @property
    def lookup(self) -> LookupFn | None:
        """Looks a name up in the index by keyword (bot/answering/subject.py); None without a keyword index."""
        retriever = self.retriever
        return retriever.lookup if isinstance(retriever, HybridRetriever) and retriever.keyword is not None else None

    @property
    def rarity(self) -> RarityFn | None:
        return self.keyword.idf if self.keyword is not None else None

    def rarity_if_indexed(self) -> RarityFn | None:
        """``rarity``, or None where there is no index to read it from (`citebot gaps` works from the log alone)."""
        try:
            return self.rarity
        except USER_ERRORS as exc:
            log.info("grouping questions without the index's term rarity: %s", exc)
            return None

    @property
    def term_counts(self) -> CountFn | None:
        return self.keyword.counts if self.keyword is not None else None

    @cached_property
    def llm(self) -> ChatModel | None:
        """The configured chat model, or None for extractive answers."""
        if self._llm is not None:
            return self._llm
        if self._models_from is not None:
            return self._models_from.llm
        return components.chat_model(self.settings)

    @cached_property
    def questions(self) -> QuestionLog | None:
        """The questions log (CITEBOT_QUESTIONS_LOG), opened on first write; None when it is off.

        The first use imports the old Discord feedback file into it, once.
        """
        if self._questions is not None:
            return self._questions
        if self._models_from is not None:
            return self._models_from.questions
        return components.question_log(self.settings)

    def for_set(self, collection: str, docs_dir: Path, sources: Sequence[str] = ()) -> Services:
        """Services for another document set (a collection and its folder, or some of its sources)
        sharing this one's models."""
        s = self.settings
        if (collection, docs_dir, list(sources)) == (s.collection, s.docs_dir, s.sources):
            return self
        settings = s.model_copy(update={"collection": collection, "docs_dir": docs_dir, "sources": list(sources)})
        return Services(settings, models_from=self)

    @cached_property
    def prompts(self) -> Prompts | None:
        """The LLM's prompt templates (checked when loaded); None without an LLM."""
        if self.llm is None:
            return None
        return self._prompts or load_prompts(self.settings.prompts_dir)

    def ingestor(self, store: Store | None = None) -> Ingestor:
        """An Ingestor writing ``store`` (default: the index, made if missing)."""
        s = self.settings
        chunker = Chunker(components.chunk_params(s), token_counter(s.embed_model))
        return Ingestor(
            store or self.store(create=True),
            self.embedder,
            chunker,
            max_bytes=components.max_file_bytes(s),
            batch_chunks=s.ingest_batch,
            cache_sentences=components.caches_sentences(s),
            pool_sentences=s.sentence_vectors == "pooled",
            load=self.reader.load,
        )

    @cached_property
    def reader(self) -> LoadWorker:
        """The child process that reads documents, within CITEBOT_FILE_TIMEOUT and CITEBOT_LOAD_MEMORY_MB per file."""
        s = self.settings
        return LoadWorker(s.file_timeout, s.load_memory_mb)

    # -- use cases -------------------------------------------------------------------------
    @property
    def ingest(self) -> Callable[..., IngestReport]:
        """Add or refresh a folder as a source of the index; with no folder, refresh every source
        (``SourceCatalog.ingest``, whose arguments it takes)."""
        return self.catalog.ingest

    @cached_property
    def catalog(self) -> SourceCatalog:
        """The index's sources: add, refresh, list and remove them."""
        return SourceCatalog(self.settings, self.index, self.ingestor, lambda: self.embedder)

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        *,
        on_sentence: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer a question (with the conversation so far) from the index.

        With an LLM configured, ``on_sentence`` receives the answer as it streams, one verified sentence at a time.
        """
        question = self.check_question(question)
        options = components.answer_options(self.settings, k)
        llm = self.llm
        # The citation checker tells a passage's sentences apart: with an LLM (seconds a question anyway),
        # each sentence gets its own vector; the extractive answer may use those cached at ingest (pooled or not).
        embed = self.answer_embedder.standalone.embed if llm is not None else self.answer_embedder.embed
        return self._reading(
            lambda: answer(
                question,
                history,
                self.retriever,
                embed=embed,
                options=options,
                llm=llm,
                prompts=self.prompts,
                on_sentence=on_sentence,
                rarity=self.rarity,
                counts=self.term_counts,
                widen=self.whole_sections,
                lookup=self.lookup,
            )
        )

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """Retrieval only."""
        query = self.check_question(query)
        return self._reading(lambda: self.retriever.retrieve(query, k or self.settings.top_k))

    def _reading(self, read: Callable[[], T]) -> T:
        """Run ``read`` on the current index: follow a finished rebuild first, and again if it lands mid-read."""
        self.index.follow()
        try:
            return _steadily(self.keyword, read)
        except CollectionGoneError:
            store = self.index.current()
            if store is None or not store.follow():
                raise
            log.info("the index was rebuilt during a question; asking the new one")
            return _steadily(self.keyword, read)

    def check_question(self, question: str) -> str:
        """Normalise a question; refuse empty or over-long ones with a reason."""
        return components.checked_question(question, self.settings.max_question_chars)

    def whole_sections(self, passages: Sequence[Passage]) -> list[Passage]:
        """Each passage widened to its section (see ``bot.retrieval.sections``)."""
        return whole_sections(self.index.current() or self.ready_store(), passages)  # asking checked it holds chunks


def _steadily(keyword: KeywordIndex | None, read: Callable[[], T]) -> T:
    """``read`` with the keyword index checked against the store once, not at each of its uses."""
    if keyword is None:
        return read()
    with keyword.steady():
        return read()
