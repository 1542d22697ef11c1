"""The processor port: one job on one element, returning output artifacts.

A processor is any object with ``kind`` and ``async def run(item, options) -> list[Artifact]``. It signals
failure by raising :class:`~conveyor.errors.RetryableError` or :class:`~conveyor.errors.PermanentError`;
any other exception counts as retryable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol

from conveyor.domain.usage import Usage

__all__ = ["Artifact", "ArtifactType", "ItemInput", "Processor", "ThrottleGauge", "Usage"]


class ArtifactType(StrEnum):
    """What an artifact holds; decides its file extension and media type."""

    MARKDOWN = "markdown"
    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    HTML = "html"
    YAML = "yaml"
    PDF = "pdf"
    BINARY = "binary"

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_EXTENSIONS = {
    ArtifactType.MARKDOWN: "md", ArtifactType.TEXT: "txt", ArtifactType.JSON: "json",
    ArtifactType.CSV: "csv", ArtifactType.HTML: "html", ArtifactType.YAML: "yaml",
    ArtifactType.PDF: "pdf", ArtifactType.BINARY: "bin",
}
_MEDIA_TYPES = {
    ArtifactType.MARKDOWN: "text/markdown", ArtifactType.TEXT: "text/plain",
    ArtifactType.JSON: "application/json", ArtifactType.CSV: "text/csv",
    ArtifactType.HTML: "text/html", ArtifactType.YAML: "application/yaml",
    ArtifactType.PDF: "application/pdf", ArtifactType.BINARY: "application/octet-stream",
}


class ThrottleGauge:
    """How many items of each run are waiting on an outside budget (an LLM provider's rate limit).

    Processors hold :meth:`waiting` while they wait; the engine shows a run whose every in-flight item
    is waiting as THROTTLED.
    """

    def __init__(self) -> None:
        self._waiting: Counter[str] = Counter()

    @contextmanager
    def waiting(self, run_id: str) -> Iterator[None]:
        self._waiting[run_id] += 1
        try:
            yield
        finally:
            self._waiting[run_id] -= 1
            if self._waiting[run_id] <= 0:
                del self._waiting[run_id]

    def count(self, run_id: str) -> int:
        return self._waiting.get(run_id, 0)


@dataclass(frozen=True)
class ItemInput:
    """One element handed to a processor: its bytes on local disk plus what is known about it.

    ``usage`` is the attempt's meter: processors that call paid services add to it.
    """

    element_id: str
    name: str
    media_type: str
    size: int
    path: Path
    metadata: Mapping[str, Any] = field(default_factory=dict)
    run_id: str = ""
    usage: Usage = field(default_factory=Usage)

    def open(self) -> IO[bytes]:
        return self.path.open("rb")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def describe(self) -> dict[str, Any]:
        """The element as the plain dict user code receives."""
        return {"id": self.element_id, "name": self.name, "media_type": self.media_type,
                "size": self.size, "metadata": dict(self.metadata)}


@dataclass(frozen=True)
class Artifact:
    """One output of a processor: bytes (or a file) with a name and a type."""

    name: str
    type: ArtifactType
    data: bytes | None = None
    path: Path | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.data is None) == (self.path is None):
            raise ValueError("an artifact carries exactly one of data or path")

    @classmethod
    def text(cls, content: str, name: str = "text") -> Artifact:
        return cls(name=name, type=ArtifactType.TEXT, data=content.encode())

    @classmethod
    def markdown(cls, content: str, name: str = "markdown") -> Artifact:
        return cls(name=name, type=ArtifactType.MARKDOWN, data=content.encode())

    @classmethod
    def json(cls, value: Any, name: str = "json") -> Artifact:
        return cls(name=name, type=ArtifactType.JSON,
                   data=json.dumps(value, ensure_ascii=False, indent=2).encode())

    def output_name(self, input_name: str) -> str:
        """The output element's name: ``input.ext`` for a default artifact, else ``input.name.ext``."""
        if self.name in (self.type.value, self.type.extension):
            return f"{input_name}.{self.type.extension}"
        return f"{input_name}.{self.name}.{self.type.extension}"


class Processor(Protocol):
    """Runs one kind of agent over one element."""

    kind: ClassVar[str]

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]: ...
