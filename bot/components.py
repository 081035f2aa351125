"""How each part is built from the settings: the embedders, the chat model, the chunking parameters.

Plain functions, called lazily by the composition root (``bot.services.Services``), which caches
what they build and lets a caller pass any part in instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.answering.extractive import AnswerOptions
from bot.answering.llm import ChatModel, OpenAICompatibleChatModel
from bot.errors import CitebotError, ConfigError
from bot.questions.migrate import migrate_feedback
from bot.questions.store import QuestionLog, move_log
from bot.settings import Settings
from ingest.documents.chunking import ChunkParams
from ingest.documents.loaders import LOADER_VERSION
from ingest.embedding.devices import EncoderChoice, check_device, choose_encoder
from ingest.embedding.embedder import Embedder, SentenceTransformerEmbedder
from ingest.embedding.onnx_encoder import OnnxEmbedder, exportable, find_export
from ingest.embedding.onnx_export import ensure_export, ensure_quantized
from ingest.embedding.torch_encoder import TorchEmbedder
from ingest.index.chroma_client import Place

log = logging.getLogger(__name__)


def encoder_choice(s: Settings) -> EncoderChoice:
    """How the model runs at ingest (backend, device, precision, batch size); a bad combination is an error."""
    return choose_encoder(s.embed_device, s.embed_precision, s.embed_batch_size, poolable=exportable(s.embed_model))


def ingest_embedder(s: Settings, choice: EncoderChoice) -> Embedder:
    """The model that embeds chunks at ingest: ONNX on the CPU, torch on a GPU.

    The ONNX export is made here on first use (in a child process: this one never loads torch).
    """
    if choice.backend == "onnx":
        if choice.precision == "int8":  # one child process makes the export and its int8 copy, as needed
            path = ensure_quantized(s.embed_model, s.cache_dir)
            if path is None:
                raise ConfigError(
                    "CITEBOT_EMBED_PRECISION=int8: the int8 copy of the model could not be made "
                    "(see the warning above); unset it to use fp32"
                )
        else:
            path = ensure_export(s.embed_model, s.cache_dir)
        if path is not None:
            return OnnxEmbedder(s.embed_model, path, batch_size=choice.batch_size)
        log.warning("no ONNX export of %s (see above); ingest runs on sentence-transformers", s.embed_model)
    elif choice.backend == "torch":
        check_device(choice.device)  # now, not at the first batch: --rebuild must not clear the index first
        return TorchEmbedder(
            s.embed_model, choice.device, half=choice.precision == "fp16", batch_size=choice.batch_size
        )
    return SentenceTransformerEmbedder(s.embed_model, device=s.embed_device, batch_size=choice.batch_size)


def query_embedder(s: Settings, choice: EncoderChoice, ingest: Callable[[], Embedder]) -> Embedder:
    """The encoder for questions and answer sentences: the cached ONNX export when allowed and present.

    Always the float model, whatever ``CITEBOT_EMBED_PRECISION`` says: int8 is for the chunks an ingest
    embeds in bulk. Answers choose among close sentences by small differences in similarity, which int8
    noise reorders (techdocs accuracy 0.617 in fp32, 0.532 with int8 questions and sentences, 0.638 with
    int8 chunks and fp32 questions and sentences: bench/README.md). ``ingest`` gives the ingest embedder,
    which serves questions too on a torch backend.
    """
    # The ONNX file is a faster copy of the configured sentence-transformers model, nothing else.
    if choice.backend == "onnx" and s.query_encoder != "torch":
        onnx_file = find_export(s.cache_dir, s.embed_model)
        if onnx_file is not None:
            return OnnxEmbedder(s.embed_model, onnx_file, threads=None)
        if s.query_encoder == "onnx":
            log.warning("no ONNX export in %s yet (it is made by `citebot ingest`); using torch", s.cache_dir)
    if choice.backend == "torch":
        return ingest()
    return SentenceTransformerEmbedder(s.embed_model, device=s.embed_device)


def caches_sentences(s: Settings) -> bool:
    """Whether ingest stores sentence vectors for answers (CITEBOT_SENTENCE_CACHE): never from an int8 model,
    whose vectors would reorder the sentences answers choose (see ``query_embedder``)."""
    return s.sentence_cache and s.embed_precision != "int8"


def chat_model(s: Settings) -> ChatModel | None:
    """The configured chat model, or None for extractive answers."""
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
        max_tokens=s.llm_max_tokens,
        system_role=s.llm_system_role,
    )


def max_file_bytes(s: Settings) -> int:
    """The largest file ingest reads (CITEBOT_MAX_FILE_MB), in bytes."""
    return int(s.max_file_mb * 1_000_000)


def chunk_params(s: Settings) -> ChunkParams:
    """How documents are cut into chunks."""
    return ChunkParams(
        tokens=s.chunk_tokens, overlap=s.chunk_overlap, max_chars=s.chunk_max_chars, embed_header=s.chunk_embed_header
    )


def fingerprint(s: Settings) -> dict[str, str | int]:
    """What built the index; a different value at open time is an error pointing at --rebuild."""
    p = chunk_params(s)
    return {
        "embed_model": s.embed_model,
        # int8 vectors differ from the float ones (fp32 on a CPU and fp16 on a GPU agree to 4 decimals)
        "embed_precision": "int8" if s.embed_precision == "int8" else "float",
        "loader_version": LOADER_VERSION,
        "chunk_tokens": p.tokens,
        "chunk_overlap": p.overlap,
        "chunk_max_chars": p.max_chars,
        "chunk_embed_header": p.embed_header,
    }


def place(s: Settings) -> Place:
    """Where the index lives (embedded folder or server), with the server timeouts."""
    return Place(s.index_dir, s.chroma_host, s.chroma_port, s.chroma_connect_timeout, s.chroma_timeout)


def question_log(s: Settings) -> QuestionLog | None:
    """The questions log (CITEBOT_QUESTIONS_LOG), None when off; the old Discord feedback file is imported once."""
    if not s.questions_log:
        return None
    old = s.index_dir.parent / f"{s.index_dir.name}.questions.sqlite"  # where it was kept before it moved in
    if not (s.questions_db or s.chroma_host) and s.index_dir.is_dir() and move_log(old, s.questions_path):
        log.info("moved the questions log %s into the index folder (%s)", old, s.questions_path)
    questions = QuestionLog(
        s.questions_path, retention_days=s.questions_retention_days, salt_file=s.data_dir / "feedback.salt"
    )
    migrate_feedback(questions, s.data_dir)
    return questions


def checked_question(question: str, limit: int) -> str:
    """A question normalised (control characters out); an empty or over-long one is refused with the reason."""
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question).strip()
    if not cleaned:
        raise CitebotError("the question is empty")
    if len(cleaned) > limit:
        raise CitebotError(f"the question is too long ({len(cleaned)} characters; the limit is {limit})")
    return cleaned


def answer_options(s: Settings, k: int | None = None) -> AnswerOptions:
    """The answerer's knobs from the settings (``k`` passages, else CITEBOT_TOP_K)."""
    return AnswerOptions(
        k=k or s.top_k,
        answer_confidence=s.answer_confidence,
        closest_confidence=s.closest_confidence,
        max_sentences=s.max_answer_sentences,
        barely_documented=s.barely_documented_chunks,
        embed_limit=s.answer_embed_sentences,
        model_chars=s.llm_context_chars,
    )
