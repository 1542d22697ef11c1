"""Which processor runs which agent type."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from conveyor.errors import ConfigurationError, PermanentError
from conveyor.processors.base import Processor

DEFAULT_AGENT_TYPE = "llm"


def load_processor(spec: str) -> Processor:
    """Instantiate ``"package.module:Class"`` (no arguments) as a processor."""
    module_name, _, attr = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
        processor: Processor = cls()
    except (ImportError, AttributeError, TypeError, ValueError) as e:
        raise ConfigurationError(f"cannot load processor {spec!r}: {e}") from e
    if not isinstance(getattr(processor, "kind", None), str):
        raise ConfigurationError(f"processor {spec!r} has no string `kind`")
    return processor


class ProcessorRegistry:
    def __init__(self, processors: Iterable[Processor]) -> None:
        self._by_kind = {p.kind: p for p in processors}

    def get(self, kind: str | None) -> Processor:
        wanted = kind or DEFAULT_AGENT_TYPE
        try:
            return self._by_kind[wanted]
        except KeyError:
            available = ", ".join(sorted(self._by_kind))
            raise PermanentError(
                f"no processor for agent type {wanted!r} on this server (available: {available})") from None

    @property
    def kinds(self) -> list[str]:
        return sorted(self._by_kind)
