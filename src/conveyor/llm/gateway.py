"""What processors call: a chat turn or a schema-valid JSON answer, routed, budgeted and metered.

A call names a model (or takes the provider's default) and may name ``fallback_models``: when a model
is rate limited, down or unknown, the next one is tried in the same attempt. When every model fails the
attempt fails — retryable if any failure was, with the shortest ``Retry-After`` heard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from conveyor.errors import PermanentError, RetryableError
from conveyor.llm.budget import Budget
from conveyor.llm.client import ChatClient, ChatRequest, ChatResult, ModelNotFound, ResponseFormatRejected
from conveyor.llm.config import DEFAULT_PROVIDER, ProviderConfig, StructuredOutput
from conveyor.llm.structured import (
    DIALECT_ORDER,
    parse_json,
    repair_instruction,
    response_format,
    schema_instruction,
    validation_errors,
)
from conveyor.processors.base import ThrottleGauge, Usage

DEFAULT_REPAIRS = 2


@dataclass(frozen=True)
class CallOptions:
    """The LLM settings of one agent (its ``llm_model``, ``fallback_models``, ``temperature`` …)."""

    model: str | None = None
    fallback_models: tuple[str, ...] = ()
    provider: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, max_tokens: int | None = None) -> CallOptions:
        fallbacks = options.get("fallback_models") or ()
        fallbacks = [fallbacks] if isinstance(fallbacks, str) else fallbacks
        return cls(model=_optional_str(options.get("llm_model")),
                   fallback_models=tuple(str(model) for model in fallbacks),
                   provider=_optional_str(options.get("provider")),
                   temperature=_optional_float(options.get("temperature")),
                   max_tokens=_optional_int(options.get("max_tokens")) or max_tokens)


@dataclass(frozen=True)
class Caller:
    """Who pays: the item's run (for THROTTLED) and its usage meter."""

    run_id: str
    usage: Usage


class _Provider:
    def __init__(self, config: ProviderConfig, gauge: ThrottleGauge,
                 transport: httpx.AsyncBaseTransport | None) -> None:
        self.config = config
        self.client = ChatClient(config, transport)
        self.budget = Budget(config.requests_per_minute, config.tokens_per_minute, gauge)
        auto = config.structured_output is StructuredOutput.AUTO
        self.dialects = list(DIALECT_ORDER) if auto else [config.structured_output]

    def serves(self, model: str) -> bool:
        return model in self.config.models


class LLMGateway:
    def __init__(self, providers: Sequence[ProviderConfig], gauge: ThrottleGauge,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._providers = {config.name: _Provider(config, gauge, transport) for config in providers}

    async def chat(self, messages: list[dict[str, str]], options: CallOptions, caller: Caller,
                   schema: dict[str, Any] | None = None) -> ChatResult:
        """One completion, trying ``options.model`` then each fallback model."""
        failures: list[PermanentError | RetryableError] = []
        for model in self._models(options):
            provider, name = self._route(model, options.provider)
            try:
                return await self._call(provider, name, messages, options, caller, schema)
            except (RetryableError, ModelNotFound) as e:
                failures.append(e)
        raise _combined(failures)

    async def json(self, messages: list[dict[str, str]], schema: dict[str, Any], options: CallOptions,
                   caller: Caller, repairs: int = DEFAULT_REPAIRS) -> Any:
        """A JSON value that validates against ``schema``; invalid answers are sent back for repair."""
        conversation = _with_instruction(messages, schema_instruction(schema))
        problem = ""
        for _ in range(repairs + 1):
            result = await self.chat(conversation, options, caller, schema)
            value, problem = _checked(result.content, schema)
            if not problem:
                return value
            conversation += [{"role": "assistant", "content": result.content},
                             {"role": "user", "content": repair_instruction(problem)}]
        raise RetryableError(f"the model's answer did not match the schema after {repairs} repairs: {problem}")

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.client.close()

    def _models(self, options: CallOptions) -> list[str | None]:
        return [options.model, *options.fallback_models]

    def _route(self, model: str | None, provider_name: str | None) -> tuple[_Provider, str]:
        if provider_name is not None:
            provider = self._providers.get(provider_name)
            if provider is None:
                raise PermanentError(f"no LLM provider named {provider_name!r} on this server "
                                     f"(known: {', '.join(self._providers)})")
        else:
            provider = next((p for p in self._providers.values() if model and p.serves(model)),
                            self._providers[DEFAULT_PROVIDER])
        name = model or provider.config.default_model
        if not name:
            raise PermanentError(f"LLM provider {provider.config.name!r} has no default model; "
                                 "set the agent's llm_model")
        return provider, name

    async def _call(self, provider: _Provider, model: str, messages: list[dict[str, str]],
                    options: CallOptions, caller: Caller, schema: dict[str, Any] | None) -> ChatResult:
        while True:
            dialect = provider.dialects[0]
            request = ChatRequest(model=model, messages=messages, temperature=options.temperature,
                                  max_tokens=options.max_tokens, extra=dict(options.extra),
                                  response_format=None if schema is None else response_format(dialect, schema))
            try:
                return await self._send(provider, request, caller)
            except ResponseFormatRejected:
                if provider.dialects[-1] is dialect:
                    raise
                if dialect in provider.dialects:  # remembered: this server never takes that dialect
                    provider.dialects.remove(dialect)

    async def _send(self, provider: _Provider, request: ChatRequest, caller: Caller) -> ChatResult:
        estimate = request.estimated_tokens()
        await provider.budget.reserve(estimate, caller.run_id)
        try:
            result = await provider.client.chat(request)
        except (RetryableError, PermanentError) as e:
            caller.usage.add()
            provider.budget.settle(estimate, 0)  # a refused request used no tokens
            if isinstance(e, RetryableError) and e.retry_after:
                provider.budget.pause(e.retry_after)
            raise
        caller.usage.add(prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens)
        provider.budget.settle(estimate, result.prompt_tokens + result.completion_tokens)
        return result


def _with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    """``instruction`` added to the leading system message (some chat templates allow only one)."""
    if messages and messages[0].get("role") == "system":
        first = {"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def _checked(content: str, schema: dict[str, Any]) -> tuple[Any, str]:
    """The parsed answer and what is wrong with it ("" when nothing)."""
    try:
        value = parse_json(content)
    except ValueError as e:
        return None, f"it is not valid JSON ({e})"
    errors = validation_errors(value, schema)
    return value, "; ".join(errors)


def _combined(failures: list[PermanentError | RetryableError]) -> PermanentError | RetryableError:
    retryable = [e for e in failures if isinstance(e, RetryableError)]
    if not retryable:
        return failures[-1]
    waits = [e.retry_after for e in retryable if e.retry_after is not None]
    message = "; ".join(e.message for e in failures)
    return RetryableError(message, retry_after=min(waits) if waits else None)


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _optional_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None
