"""One OpenAI-compatible ``/chat/completions`` endpoint over HTTP, with errors sorted for the engine.

429 and 5xx answers, timeouts and refused connections are :class:`RetryableError` (with the server's
``Retry-After``); other 4xx answers are :class:`PermanentError`, except a refused ``response_format``,
which is :class:`ResponseFormatRejected` so the caller can try another structured-output dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from conveyor.engine.backoff import parse_retry_after
from conveyor.errors import PermanentError, RetryableError
from conveyor.llm.config import ProviderConfig

MAX_ERROR_BODY = 300


class ResponseFormatRejected(PermanentError):
    """The server does not accept this kind of response_format."""


class ModelNotFound(PermanentError):
    """The server does not serve this model."""


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": self.messages, **self.extra}
        for key in ("temperature", "max_tokens", "response_format"):
            if (value := getattr(self, key)) is not None:
                body[key] = value
        return body

    def estimated_tokens(self) -> int:
        """A rough count for the budget before the call: ~4 characters a token, plus the answer cap."""
        prompt = sum(len(message.get("content", "")) for message in self.messages) // 4
        return prompt + (self.max_tokens or 512)


@dataclass(frozen=True)
class ChatResult:
    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None


class ChatClient:
    def __init__(self, config: ProviderConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key.get_secret_value()}"} if config.api_key else {}
        self._http = httpx.AsyncClient(base_url=config.base_url.rstrip("/") + "/", headers=headers,
                                       timeout=config.timeout_seconds, transport=transport)

    async def chat(self, request: ChatRequest) -> ChatResult:
        try:
            response = await self._http.post("chat/completions", json=request.body())
        except httpx.TimeoutException as e:
            raise RetryableError(f"{self._where(request)} did not answer in time") from e
        except httpx.HTTPError as e:
            raise RetryableError(f"cannot reach {self._where(request)} at {self.config.base_url}: "
                                 f"{type(e).__name__}: {e}") from e
        if response.status_code >= 400:
            raise self._error(request, response)
        return _result(request, response)

    async def close(self) -> None:
        await self._http.aclose()

    def _where(self, request: ChatRequest) -> str:
        return f"LLM provider {self.config.name!r} (model {request.model!r})"

    def _error(self, request: ChatRequest, response: httpx.Response) -> Exception:
        status, text = response.status_code, _error_text(response)
        where, lowered = self._where(request), text.lower()
        # llama-cpp-python's server answers a response_format it does not know with a 500
        if request.response_format is not None and status in (400, 422, 500) and "response_format" in lowered:
            return ResponseFormatRejected(f"{where} refused the response_format: {text}")
        if status == 429 or status >= 500:
            return RetryableError(f"{where} answered {status}: {text}", retry_after=retry_after(response))
        if status == 404 or ("model" in lowered and ("not found" in lowered or "does not exist" in lowered)):
            return ModelNotFound(f"{where} is not served there ({status}): {text}")
        return PermanentError(f"{where} answered {status}: {text}")


def _result(request: ChatRequest, response: httpx.Response) -> ChatResult:
    try:
        payload = response.json()
        choice = payload["choices"][0]
        content = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise RetryableError(f"LLM answer is not a chat completion: {response.text[:MAX_ERROR_BODY]}") from e
    usage = payload.get("usage") or {}
    return ChatResult(content=str(content), model=str(payload.get("model") or request.model),
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0),
                      finish_reason=choice.get("finish_reason"))


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:MAX_ERROR_BODY] or response.reason_phrase
    error = payload.get("error", payload) if isinstance(payload, dict) else payload
    message = error.get("message", error) if isinstance(error, dict) else error
    return str(message)[:MAX_ERROR_BODY]


def retry_after(response: httpx.Response) -> float | None:
    """The server's ``Retry-After`` in seconds, if it sent a readable one."""
    return parse_retry_after(response.headers.get("retry-after"))
