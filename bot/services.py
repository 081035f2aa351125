"""The composition root: Settings -> embedder, store, chunker, retriever, ingestor, answerer.

Everything is built lazily on first use, so commands that need no model never load one. Any part
can be passed in instead (keyword-only arguments): tests and benchmarks swap in fakes that way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from bot.answering.answer import AnswerOptions, answer
from bot.answering.evidence import RarityFn
from bot.answering.llm import ChatModel, OpenAICompatibleChatModel
from bot.answering.prompts import Prompts, load_prompts
from bot.errors import CitebotError, ConfigError, NotIngestedError
from bot.questions.migrate import migrate_feedback
from bot.questions.store import QuestionLog
from bot.retrieval.base import DenseRetriever, Retriever
from bot.retrieval.hybrid import HybridOptions, HybridRetriever
from bot.retrieval.keyword import KeywordIndex
from bot.schema import Answer, IngestReport, Passage, Turn
from bot.settings import Settings
from ingest.chroma_client import Place, open_client, release_client
from ingest.chunking import Chunker, ChunkParams
from ingest.devices import EncoderChoice, check_device, choose_encoder
from ingest.embedder import Embedder, SentenceTransformerEmbedder, token_counter
from ingest.errors import CollectionGoneError, IndexDamagedError, IngestError
from ingest.load_worker import LoadWorker
from ingest.loaders import LOADER_VERSION
from ingest.lock import WaitFn, ingest_lock
from ingest.onnx_encoder import OnnxEmbedder, exportable, find_export
from ingest.onnx_export import ensure_export, ensure_quantized
from ingest.pipeline import Ingestor
from ingest.report import ProgressFn
from ingest.sentence_cache import CachedEmbedder
from ingest.store import Store
from ingest.torch_encoder import TorchEmbedder

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The most of a section one passage shows (the retrieved chunk and its neighbours in the section).
SECTION_CHARS = 2400


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
        self._store: Store | None = store
        self._lock = threading.Lock()

    # -- parts -----------------------------------------------------------------------------
    @cached_property
    def encoder_choice(self) -> EncoderChoice:
        """How the model runs at ingest (backend, device, precision, batch size); a bad combination is an error."""
        s = self.settings
        return choose_encoder(s.embed_device, s.embed_precision, s.embed_batch_size, poolable=exportable(s.embed_model))

    @cached_property
    def embedder(self) -> Embedder:
        """The model that embeds chunks at ingest: ONNX on the CPU, torch on a GPU (unless one was passed in).

        The ONNX export is made here on first use (in a child process: this one never loads torch).
        """
        if self._embedder is not None:
            return self._embedder
        if self._models_from is not None:
            return self._models_from.embedder
        s = self.settings
        choice = self.encoder_choice
        if choice.backend == "onnx":
            path = ensure_export(s.embed_model, s.cache_dir)
            if path is not None and choice.precision == "int8":
                path = ensure_quantized(s.embed_model, s.cache_dir)
                if path is None:
                    raise ConfigError(
                        "CITEBOT_EMBED_PRECISION=int8: the int8 copy of the model could not be made "
                        "(run with -v for the reason); unset it to use fp32"
                    )
            if path is not None:
                return OnnxEmbedder(s.embed_model, path, batch_size=choice.batch_size)
            log.warning("no ONNX export of %s (see above); ingest runs on sentence-transformers", s.embed_model)
        elif choice.backend == "torch":
            check_device(choice.device)  # now, not at the first batch: --rebuild must not clear the index first
            return TorchEmbedder(
                s.embed_model, choice.device, half=choice.precision == "fp16", batch_size=choice.batch_size
            )
        return SentenceTransformerEmbedder(s.embed_model, device=s.embed_device, batch_size=choice.batch_size)

    @cached_property
    def query_embedder(self) -> Embedder:
        """The encoder for questions and answer sentences: the cached ONNX export when allowed and present."""
        if self._query_embedder is not None:
            return self._query_embedder
        if self._embedder is not None:
            return self._embedder  # a model passed in serves questions too
        if self._models_from is not None:
            return self._models_from.query_embedder
        s = self.settings
        choice = self.encoder_choice
        # The ONNX file is a faster copy of the configured sentence-transformers model, nothing else.
        if choice.backend == "onnx" and s.query_encoder != "torch":
            onnx_file = find_export(s.cache_dir, s.embed_model, choice.precision) or find_export(
                s.cache_dir, s.embed_model
            )
            if onnx_file is not None:
                return OnnxEmbedder(s.embed_model, onnx_file, threads=None)
            if s.query_encoder == "onnx":
                log.warning("no ONNX export in %s yet (it is made by `citebot ingest`); using torch", s.cache_dir)
        if choice.backend == "torch":
            return self.embedder
        return SentenceTransformerEmbedder(s.embed_model, device=s.embed_device)

    @cached_property
    def answer_embedder(self) -> CachedEmbedder:
        """Question-time embeddings: memory, then the index's sentence cache (when on), then the query encoder."""
        return CachedEmbedder(self.query_embedder, self.ready_store(), lookup=self.settings.sentence_cache)

    @property
    def chunk_params(self) -> ChunkParams:
        s = self.settings
        return ChunkParams(
            tokens=s.chunk_tokens,
            overlap=s.chunk_overlap,
            max_chars=s.chunk_max_chars,
            embed_header=s.chunk_embed_header,
        )

    @property
    def fingerprint(self) -> dict[str, str | int]:
        """What built the index; a different value at open time is an error pointing at --rebuild."""
        p = self.chunk_params
        return {
            "embed_model": self.settings.embed_model,
            "loader_version": LOADER_VERSION,
            "chunk_tokens": p.tokens,
            "chunk_overlap": p.overlap,
            "chunk_max_chars": p.max_chars,
            "chunk_embed_header": p.embed_header,
        }

    @property
    def place(self) -> Place:
        """Where the index lives (embedded folder or server), with the server timeouts."""
        s = self.settings
        return Place(s.index_dir, s.chroma_host, s.chroma_port, s.chroma_connect_timeout, s.chroma_timeout)

    def _client(self) -> object:
        p = self.place
        return open_client(p.index_dir, p.host, p.port, connect_timeout=p.connect_timeout, timeout=p.timeout)

    def store(self, *, create: bool = False) -> Store:
        """The index; with ``create`` it is made if missing. Checked against the settings either way."""
        with self._lock:
            if self._store is None or (create and not self._store.exists):
                self._store = Store(
                    self._client(), self.settings.collection, self.fingerprint, create=create, place=self.place
                )
            self._store.check_fingerprint()
            return self._store

    def follow_rebuild(self) -> None:
        """Move this process's readers to the index a finished ``--rebuild`` switched to (a cheap check)."""
        with self._lock:
            store = self._store
        if store is not None and store.follow():
            store.check_fingerprint()

    @cached_property
    def retriever(self) -> Retriever:
        s = self.settings
        store = self.ready_store()
        if s.retrieval_mode == "dense":
            return DenseRetriever(store, self.answer_embedder.standalone)
        cache = s.index_dir / "keyword" if s.keyword_cache and not s.chroma_host else None
        options = HybridOptions.from_settings(s)
        embedder = None if s.retrieval_mode == "keyword" else self.answer_embedder.standalone
        return HybridRetriever(store, embedder, KeywordIndex(store, cache), options)

    @property
    def rarity(self) -> RarityFn | None:
        """How rare terms are in the index (the keyword index's IDF), for judging answerability."""
        retriever = self.retriever
        keyword = retriever.keyword if isinstance(retriever, HybridRetriever) else None
        return keyword.idf if keyword is not None else None

    @cached_property
    def llm(self) -> ChatModel | None:
        """The configured chat model, or None for extractive answers."""
        if self._llm is not None:
            return self._llm
        if self._models_from is not None:
            return self._models_from.llm
        s = self.settings
        if not s.llm_base_url:
            return None
        if not s.llm_model:
            raise ConfigError("CITEBOT_LLM_BASE_URL is set but CITEBOT_LLM_MODEL is empty; name the model to use")
        return OpenAICompatibleChatModel(
            s.llm_base_url,
            s.llm_model,
            api_key=s.llm_api_key.get_secret_value() if s.llm_api_key else None,
            timeout=s.llm_timeout,
            max_retries=s.llm_max_retries,
            temperature=s.llm_temperature,
        )

    @cached_property
    def questions(self) -> QuestionLog | None:
        """The questions log (CITEBOT_QUESTIONS_LOG), opened on first write; None when it is off.

        The first use imports the old Discord feedback file into it, once.
        """
        if self._questions is not None:
            return self._questions
        if self._models_from is not None:
            return self._models_from.questions
        s = self.settings
        if not s.questions_log:
            return None
        questions = QuestionLog(
            s.questions_path, retention_days=s.questions_retention_days, salt_file=s.data_dir / "feedback.salt"
        )
        migrate_feedback(questions, s.data_dir)
        return questions

    def for_set(self, collection: str, docs_dir: Path) -> Services:
        """Services for another document set (a collection and its folder) sharing this one's models."""
        if collection == self.settings.collection and docs_dir == self.settings.docs_dir:
            return self
        settings = self.settings.model_copy(update={"collection": collection, "docs_dir": docs_dir})
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
        chunker = Chunker(self.chunk_params, token_counter(s.embed_model))
        return Ingestor(
            store or self.store(create=True),
            self.embedder,
            chunker,
            max_bytes=int(s.max_file_mb * 1_000_000),
            batch_chunks=s.ingest_batch,
            cache_sentences=s.sentence_cache,
            pool_sentences=s.sentence_vectors == "pooled",
            load=self.reader.load,
        )

    @cached_property
    def reader(self) -> LoadWorker:
        """The child process that reads documents, within CITEBOT_FILE_TIMEOUT and CITEBOT_LOAD_MEMORY_MB per file."""
        s = self.settings
        return LoadWorker(s.file_timeout, s.load_memory_mb)

    # -- use cases -------------------------------------------------------------------------
    def ingest(
        self,
        path: Path | None = None,
        *,
        rebuild: bool = False,
        excludes: Sequence[str] = (),
        progress: ProgressFn | None = None,
        wait: float | None = None,
        on_wait: WaitFn | None = None,
    ) -> IngestReport:
        """Bring the index up to date with ``path`` (default: the docs folder).

        Files matching ``CITEBOT_EXCLUDE``, ``excludes`` or the folder's ``.citebotignore`` are left out.
        Only one ingest writes an index at a time: this one waits up to ``wait`` seconds (default
        ``CITEBOT_INGEST_WAIT``) for another to finish, telling ``on_wait``, then refuses. With
        ``rebuild`` the new index is built beside the old one, which keeps answering until it is complete.
        """
        s = self.settings
        folder = path or s.docs_dir
        if not folder.is_dir():  # before the model loads (a first ingest exports it: seconds)
            raise IngestError(f"folder not found: {folder}")
        _ = self.embedder  # a model or device problem stops the run before it takes the lock or stages a rebuild
        wait = s.ingest_wait if wait is None else wait
        client = self._client() if s.chroma_host else None  # a server holds the lock; a folder has a lock file
        with ingest_lock(client=client, name=s.collection, wait=wait, on_wait=on_wait, place=self.place):
            excluded = [*s.exclude, *excludes]
            if not rebuild:
                self.follow_rebuild()  # another process may have rebuilt the index since this one opened it
                report = self.ingestor().run(folder, excludes=excluded, progress=progress)
            else:
                staged = self._staged_rebuild()
                report = self.ingestor(staged).run(folder, excludes=excluded, progress=progress)
                staged.activate()
                with self._lock:
                    if self._store is None:
                        self._store = staged
                self.follow_rebuild()
        return report

    def _staged_rebuild(self) -> Store:
        """The new, empty index a rebuild fills beside the live one; an embedded index too damaged to use is
        moved aside first (kept, renamed ``<folder>.damaged-<time>``)."""
        s = self.settings
        try:
            return Store(self._client(), s.collection, self.fingerprint, create=False, place=self.place).staged()
        except IndexDamagedError:
            if s.chroma_host or not s.index_dir.is_dir():
                raise
        aside = s.index_dir.with_name(f"{s.index_dir.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        release_client(s.index_dir)
        s.index_dir.rename(aside)
        log.warning("moved the damaged index %s aside to %s; building a new one", s.index_dir, aside)
        with self._lock:
            self._store = None
        return Store(self._client(), s.collection, self.fingerprint, create=False, place=self.place).staged()

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        *,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer a question (with the conversation so far) from the index.

        With an LLM configured, ``on_token`` receives the answer as it streams.
        """
        question = self.check_question(question)
        options = AnswerOptions(
            k=k or self.settings.top_k,
            answer_confidence=self.settings.answer_confidence,
            closest_confidence=self.settings.closest_confidence,
            max_sentences=self.settings.max_answer_sentences,
        )
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
                on_token=on_token,
                rarity=self.rarity,
                widen=self.whole_sections,
            )
        )

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """Retrieval only."""
        query = self.check_question(query)
        return self._reading(lambda: self.retriever.retrieve(query, k or self.settings.top_k))

    def _reading(self, read: Callable[[], T]) -> T:
        """Run ``read`` on the current index: follow a finished rebuild first, and again if it lands mid-read."""
        self.follow_rebuild()
        try:
            return read()
        except CollectionGoneError:
            with self._lock:
                store = self._store
            if store is None or not store.follow():
                raise
            log.info("the index was rebuilt during a question; asking the new one")
            return read()

    def check_question(self, question: str) -> str:
        """Normalise a question; refuse empty or over-long ones with a reason."""
        cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question).strip()
        if not cleaned:
            raise CitebotError("the question is empty")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise CitebotError(f"the question is too long ({len(cleaned)} characters; the limit is {limit})")
        return cleaned

    def whole_sections(self, passages: Sequence[Passage]) -> list[Passage]:
        """Each passage widened to its section: the retrieved chunk and its neighbours, up to ``SECTION_CHARS``."""
        store = self.ready_store()
        out = []
        for passage in passages:
            chunks = store.section_chunks(passage.source, passage.section) if passage.section else []
            if len(chunks) <= 1:
                out.append(passage)
                continue
            at = next((i for i, c in enumerate(chunks) if c.id == passage.chunk_id), 0)
            lo = hi = at
            size = len(chunks[at].text)
            while True:
                grown = False
                for j in (hi + 1, lo - 1):
                    if 0 <= j < len(chunks) and not lo <= j <= hi and size + len(chunks[j].text) <= SECTION_CHARS:
                        lo, hi = min(lo, j), max(hi, j)
                        size += len(chunks[j].text)
                        grown = True
                if not grown:
                    break
            text = "\n\n".join(c.text for c in chunks[lo : hi + 1])
            out.append(replace(passage, text=text))
        return out

    def ready_store(self) -> Store:
        """The index, which must hold documents (else a NotIngestedError saying how to fill it)."""
        store = self.store()
        if not store.has_chunks():
            where = (
                f"Chroma server {self.settings.chroma_host}:{self.settings.chroma_port}"
                if self.settings.chroma_host
                else str(self.settings.index_dir)
            )
            raise NotIngestedError(
                f"no documents are indexed yet in {where} (collection '{self.settings.collection}'); "
                "run `citebot ingest [FOLDER]` first"
            )
        return store
