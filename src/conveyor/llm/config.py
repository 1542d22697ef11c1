"""Which LLM providers a server knows: the default one from the flat ``CONVEYOR_LLM_*`` settings plus
named ones from ``CONVEYOR_LLM_PROVIDERS`` (a JSON list)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from conveyor.errors import ConfigurationError
from conveyor.settings import Settings

DEFAULT_PROVIDER = "default"


class StructuredOutput(StrEnum):
    """How a provider is asked for JSON that follows a schema.

    - ``json_schema``: OpenAI's ``response_format: {"type": "json_schema", ...}`` (OpenAI, vLLM, Ollama);
    - ``json_object``: ``{"type": "json_object", "schema": ...}``, a grammar from the schema (llama.cpp's
      server, which rejects the ``json_schema`` type);
    - ``prompt``: the schema in the prompt, the answer validated and repaired;
    - ``auto``: ``json_schema`` first, falling back down this list when the server refuses it.
    """

    AUTO = "auto"
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    PROMPT = "prompt"


class ProviderConfig(BaseModel):
    """One OpenAI-compatible endpoint and its budget (0 = unlimited)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    base_url: str = Field(min_length=1, description="e.g. https://api.openai.com/v1")
    api_key: SecretStr | None = None
    models: tuple[str, ...] = Field(
        default=(), description="Models routed here by name; any provider is also reachable by an agent's "
                                "`provider` option, and the default provider takes every other model.")
    default_model: str | None = None
    structured_output: StructuredOutput = StructuredOutput.AUTO
    requests_per_minute: int = Field(default=0, ge=0)
    tokens_per_minute: int = Field(default=0, ge=0)
    timeout_seconds: float = Field(default=120.0, gt=0)


def providers_from(settings: Settings) -> list[ProviderConfig]:
    """The default provider first, then the named ones; names must be unique."""
    default = ProviderConfig(
        name=DEFAULT_PROVIDER, base_url=settings.llm_base_url,
        api_key=SecretStr(settings.llm_api_key) if settings.llm_api_key else None,
        default_model=settings.llm_model, structured_output=StructuredOutput(settings.llm_structured_output),
        requests_per_minute=settings.llm_requests_per_minute, tokens_per_minute=settings.llm_tokens_per_minute,
        timeout_seconds=settings.llm_timeout_seconds)
    try:
        named = [ProviderConfig.model_validate(entry) for entry in settings.llm_providers]
    except ValidationError as e:
        raise ConfigurationError(f"CONVEYOR_LLM_PROVIDERS is invalid: {e}") from e
    providers = [default, *named]
    names = [p.name for p in providers]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"LLM provider names must be unique (got {', '.join(names)})")
    return providers
