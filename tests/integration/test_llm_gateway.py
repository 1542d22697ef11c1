"""The LLM gateway against the real local model (through a fault-injecting proxy where faults are needed)."""

from __future__ import annotations

import asyncio

import jsonschema
import pytest

from conveyor.errors import PermanentError, RetryableError
from conveyor.llm.config import ProviderConfig, StructuredOutput
from conveyor.llm.gateway import Caller, CallOptions, LLMGateway
from conveyor.processors.base import ThrottleGauge, Usage
from tests.support.llm import FaultyProxy, LocalLLM

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
QUESTION = [{"role": "user", "content": "Text: 'Our office is in Lisbon.' Which city is the office in?"}]


def gateway(*providers: ProviderConfig) -> LLMGateway:
    return LLMGateway(list(providers), ThrottleGauge())


def provider(base_url: str, name: str = "default", **fields: object) -> ProviderConfig:
    return ProviderConfig(name=name, base_url=base_url, default_model="gemma3-270m", **fields)  # type: ignore[arg-type]


async def test_auto_dialect_settles_on_what_the_server_accepts(local_llm: LocalLLM) -> None:
    llm = gateway(provider(local_llm.base_url))
    try:
        usage = Usage()
        value = await llm.json(QUESTION, SCHEMA, CallOptions(max_tokens=64), Caller("r", usage))
        jsonschema.validate(value, SCHEMA)
        assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
        # llama.cpp's server refuses OpenAI's json_schema type; the gateway now asks with json_object first
        assert llm._providers["default"].dialects[0] is StructuredOutput.JSON_OBJECT
    finally:
        await llm.close()


async def test_a_pinned_dialect_the_server_refuses_is_a_permanent_error(local_llm: LocalLLM) -> None:
    llm = gateway(provider(local_llm.base_url, structured_output=StructuredOutput.JSON_SCHEMA))
    try:
        with pytest.raises(PermanentError, match="refused the response_format"):
            await llm.json(QUESTION, SCHEMA, CallOptions(max_tokens=32), Caller("r", Usage()))
    finally:
        await llm.close()


async def test_429_is_retryable_with_the_servers_retry_after(faulty_llm: FaultyProxy) -> None:
    llm = gateway(provider(faulty_llm.base_url))
    faulty_llm.fail(1, status=429, retry_after="7")
    usage = Usage()
    try:
        with pytest.raises(RetryableError, match="answered 429") as caught:
            await llm.chat(QUESTION, CallOptions(max_tokens=8), Caller("r", usage))
        assert caught.value.retry_after == 7 and usage.requests == 1
    finally:
        await llm.close()


async def test_fallback_model_answers_when_the_first_is_rate_limited(faulty_llm: FaultyProxy,
                                                                      local_llm: LocalLLM) -> None:
    busy = provider(faulty_llm.base_url, name="busy", models=("big-model",))
    llm = gateway(provider(local_llm.base_url), busy)
    faulty_llm.fail(1, status=429, retry_after="30")
    try:
        result = await llm.chat(QUESTION, CallOptions(model="big-model", fallback_models=("gemma3-270m",),
                                                      max_tokens=16), Caller("r", Usage()))
        assert result.model == "gemma3-270m" and faulty_llm.refused == 1 and faulty_llm.forwarded == 0
    finally:
        await llm.close()


async def test_unreachable_provider_is_retryable_and_says_where() -> None:
    llm = gateway(provider("http://127.0.0.1:9/v1"))
    try:
        with pytest.raises(RetryableError, match="cannot reach LLM provider 'default'"):
            await llm.chat(QUESTION, CallOptions(), Caller("r", Usage()))
    finally:
        await llm.close()


async def test_unknown_provider_name_is_permanent(local_llm: LocalLLM) -> None:
    llm = gateway(provider(local_llm.base_url))
    try:
        with pytest.raises(PermanentError, match="no LLM provider named 'nope'"):
            await llm.chat(QUESTION, CallOptions(provider="nope"), Caller("r", Usage()))
    finally:
        await llm.close()


async def test_concurrent_calls_settle_the_dialect_without_tripping_over_each_other(local_llm: LocalLLM) -> None:
    llm = gateway(provider(local_llm.base_url))
    try:
        values = await asyncio.gather(*(llm.json(QUESTION, SCHEMA, CallOptions(max_tokens=32), Caller("r", Usage()))
                                        for _ in range(3)))
        assert len(values) == 3
        for value in values:
            jsonschema.validate(value, SCHEMA)
        assert llm._providers["default"].dialects[0] is StructuredOutput.JSON_OBJECT
    finally:
        await llm.close()
