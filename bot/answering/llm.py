"""The chat model behind a small interface, and its adapter for any OpenAI-compatible endpoint.

Ollama, vLLM, llama.cpp's server, LM Studio and OpenAI all speak ``/v1/chat/completions``; the
``openai`` client talks to each of them given a base URL. This is the only module that imports it.
Every failure (unreachable, timeout, HTTP error, empty reply) becomes an ``LLMError`` with a
one-line message, so callers can fall back instead of failing the user.
"""

from __future__ import annotations

import logging
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


class ChatModel(Protocol):
    """What the answerer needs from a language model."""

    def complete(self, messages: Sequence[Message]) -> str:
        """The model's whole reply to ``messages``."""
        ...

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """The model's reply to ``messages``, piece by piece as it is generated."""
        ...


class OpenAICompatibleChatModel:
    """A chat model at an OpenAI-compatible endpoint, with a timeout and a bounded retry.

    The client retries connection errors, timeouts, 408/429 and 5xx replies ``max_retries`` times
    with a short exponential back-off; after that the error is raised as ``LLMError``.
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature = temperature
        self._api_key = api_key or "not-needed"  # local servers ignore it; the client insists on one
        self._timeout = timeout
        self._max_retries = max_retries
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self._timeout,
                max_retries=self._max_retries,
            )
        return self._client

    def _request(self, messages: Sequence[Message], stream: bool) -> Any:
        return self._get_client().chat.completions.create(
            model=self.model,
            messages=[{"role": m.role, "content": m.content} for m in messages],
            temperature=self.temperature,
            stream=stream,
        )

    def complete(self, messages: Sequence[Message]) -> str:
        try:
            reply = self._request(messages, stream=False)
        except Exception as exc:
            raise self._error(exc) from exc
        choices = getattr(reply, "choices", None) or []
        content = choices[0].message.content if choices else None
        if not content or not content.strip():
            raise LLMError(f"the LLM at {self.base_url} returned an empty reply (model '{self.model}')")
        return str(content)

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        produced = False
        try:
            for chunk in self._request(messages, stream=True):
                choices = getattr(chunk, "choices", None) or []
                delta = choices[0].delta.content if choices and choices[0].delta else None
                if delta:
                    produced = True
                    yield delta
        except LLMError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        if not produced:
            raise LLMError(f"the LLM at {self.base_url} returned an empty reply (model '{self.model}')")

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


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
