"""The chat model behind a small interface, and its adapter for any OpenAI-compatible endpoint.

Ollama, vLLM, llama.cpp's server, LM Studio and OpenAI all speak ``/v1/chat/completions``; the
``openai`` client talks to each of them given a base URL. This is the only module that imports it.
Every failure (unreachable, timeout, HTTP error, empty reply) becomes an ``LLMError`` with a
one-line message, so callers can fall back instead of failing the user.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.errors import LLMError

log = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    content: str


class EmptyReply(LLMError):
    """The model answered with nothing (a small model may): the server itself works."""


class DeadlineReached(LLMError):
    """A streamed reply ran past its deadline; the pieces yielded before it are all there is."""


class ChatModel(Protocol):
    """What the answerer needs from a language model."""

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        """The model's whole reply to ``messages`` (at most ``max_tokens``, else the model's own limit)."""
        ...

    def stream(self, messages: Sequence[Message], *, stop: Sequence[str] = ()) -> Iterator[str]:
        """The model's reply to ``messages``, piece by piece as it is generated, ended at any of ``stop``."""
        ...


class OpenAICompatibleChatModel:
    """A chat model at an OpenAI-compatible endpoint, bounded in time and length.

    ``timeout`` bounds a whole call, retries included: connection errors, timeouts, 408/429 and 5xx
    replies are retried up to ``max_retries`` times with a short back-off while time is left; after
    that the error is raised as ``LLMError``. A stream that is still running at the deadline is cut
    there (``DeadlineReached`` after the pieces that came in time). ``max_tokens`` bounds the reply.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        temperature: float = 0.1,
        max_tokens: int | None = 512,
        system_role: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.system_role = system_role
        self._api_key = api_key or "not-needed"  # local servers ignore it; the client insists on one
        self._timeout = timeout
        self._max_retries = max_retries
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            # Retries are ours (below), so that they fit in the deadline.
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=0)
        return self._client

    def _request(
        self,
        messages: Sequence[Message],
        stream: bool,
        deadline: float,
        max_tokens: int | None = None,
        stop: Sequence[str] = (),
    ) -> Any:
        """One call, retried while the error is transient and time is left before ``deadline``."""
        import openai

        extra: dict[str, Any] = {}
        limit = max_tokens or self.max_tokens  # a call's own limit (a rewritten question is short)
        if limit:
            extra["max_tokens"] = limit
        if stop:
            extra["stop"] = list(stop)[:4]  # OpenAI's API takes at most four
        if not self.system_role:
            messages = system_in_first_user_message(messages)
        for attempt in range(self._max_retries + 1):
            left = deadline - time.monotonic()
            try:
                return self._get_client().chat.completions.create(
                    model=self.model,
                    messages=[{"role": m.role, "content": m.content} for m in messages],
                    temperature=self.temperature,
                    stream=stream,
                    timeout=max(left, 0.05),
                    **extra,
                )
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                pause = min(0.5 * 2**attempt, 4.0)
                if attempt == self._max_retries or deadline - time.monotonic() < pause + 0.1:
                    raise
                log.info("LLM request failed (%s); retrying in %.1fs", _first_line(exc), pause)
                time.sleep(pause)
            except openai.APIStatusError as exc:
                if exc.status_code != 408 or attempt == self._max_retries:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        deadline = time.monotonic() + self._timeout
        try:
            reply = self._request(messages, stream=False, deadline=deadline, max_tokens=max_tokens)
        except Exception as exc:
            raise self._error(exc) from exc
        choices = getattr(reply, "choices", None) or []
        content = choices[0].message.content if choices else None
        if not content or not content.strip():
            raise EmptyReply(f"the LLM at {self.base_url} returned an empty reply (model '{self.model}')")
        return str(content)

    def stream(self, messages: Sequence[Message], *, stop: Sequence[str] = ()) -> Iterator[str]:
        produced = False
        deadline = time.monotonic() + self._timeout
        response = None
        try:
            response = self._request(messages, stream=True, deadline=deadline, stop=stop)
            for chunk in response:
                choices = getattr(chunk, "choices", None) or []
                delta = choices[0].delta.content if choices and choices[0].delta else None
                if delta:
                    produced = True
                    yield delta
                if time.monotonic() > deadline:
                    raise DeadlineReached(f"the LLM at {self.base_url} was cut off after {self._timeout:g}s")
        except LLMError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        finally:
            if response is not None:
                response.close()  # a stream left early (deadline, caller gone) frees its connection
        if not produced:
            raise EmptyReply(f"the LLM at {self.base_url} returned an empty reply (model '{self.model}')")

    def _error(self, exc: Exception) -> LLMError:
        """One line saying what went wrong, for any failure of the client."""
        import openai

        where = f"the LLM at {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(f"{where} did not answer within {self._timeout:g}s")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return LLMError(f"{where} is unreachable ({_first_line(cause)})")
        if isinstance(exc, openai.APIStatusError):
            detail = _first_line(exc.message) if exc.message else ""
            return LLMError(f"{where} answered HTTP {exc.status_code} for model '{self.model}': {detail}"[:300])
        if isinstance(exc, openai.OpenAIError):
            return LLMError(f"{where} failed: {_first_line(exc)}"[:300])
        log.exception("unexpected error from the LLM client")
        return LLMError(f"{where} failed unexpectedly: {type(exc).__name__}: {_first_line(exc)}"[:300])


def system_in_first_user_message(messages: Sequence[Message]) -> list[Message]:
    """The system messages' text put at the top of the first user message, for chat templates that
    have no system turn and drop it (llama-cpp-python's ``gemma`` format does, silently)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    rest = [m for m in messages if m.role != "system"]
    if not system:
        return rest
    for i, m in enumerate(rest):
        if m.role == "user":
            return [*rest[:i], Message("user", f"{system}\n\n{m.content}"), *rest[i + 1 :]]
    return [Message("user", system), *rest]


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
