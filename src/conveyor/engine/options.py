"""What a processor receives as ``options``, built from the pinned agent spec and the recipe."""

from __future__ import annotations

from typing import Any

from conveyor.store.models import Recipe

_AGENT_FIELDS = ("instructions", "llm_model", "fallback_models", "temperature", "max_tokens", "artifacts",
                 "artifact_specs")


def processor_options(recipe: Recipe) -> dict[str, Any]:
    """The agent's ``additional_properties`` plus its LLM fields and the recipe's ``user_message``."""
    spec = recipe.agent_spec
    options: dict[str, Any] = dict(spec.get("additional_properties") or {})
    for field in _AGENT_FIELDS:
        if spec.get(field) is not None:
            options.setdefault(field, spec[field])
    if recipe.user_message is not None:
        options.setdefault("user_message", recipe.user_message)
    return options


def item_timeout(recipe: Recipe, default: float) -> float:
    """``additional_properties.timeout_seconds`` of the agent, else the server default."""
    value = (recipe.agent_spec.get("additional_properties") or {}).get("timeout_seconds")
    return float(value) if isinstance(value, int | float) and value > 0 else default
