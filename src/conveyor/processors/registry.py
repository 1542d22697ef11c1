"""Which processor runs which agent type."""

from __future__ import annotations

from collections.abc import Iterable

from conveyor.errors import PermanentError
from conveyor.processors.base import Processor

DEFAULT_AGENT_TYPE = "llm"


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
