"""Documents as LLM input: the reader the LLM processors parse through, and page-aligned chunks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from conveyor.processors.base import ItemInput
from conveyor.processors.parse.document import ParsedDocument

DEFAULT_CHUNK_CHARS = 12_000
"""About 3,000 tokens of document per LLM call."""


class DocumentReader(Protocol):
    async def document(self, item: ItemInput, options: Mapping[str, Any]) -> ParsedDocument: ...


@dataclass(frozen=True)
class Chunk:
    """Consecutive pages (1-based, inclusive) and their text, each page headed ``[Page n]``."""

    first_page: int
    last_page: int
    text: str


def chunk_pages(pages: Sequence[Mapping[str, Any]], max_chars: int = DEFAULT_CHUNK_CHARS) -> list[Chunk]:
    """Whole pages packed into chunks of at most ``max_chars``; a longer page is split on its own."""
    chunks: list[Chunk] = []
    parts: list[str] = []
    first = 0
    for page in pages:
        number, text = int(page["page"]), str(page.get("text") or "")
        block = f"[Page {number}]\n{text}"
        if parts and sum(map(len, parts)) + len(block) > max_chars:
            chunks.append(Chunk(first, number - 1, "\n\n".join(parts)))
            parts = []
        if not parts:
            first = number
        if len(block) > max_chars:
            chunks.extend(Chunk(number, number, piece) for piece in _split(block, max_chars))
            continue
        parts.append(block)
    if parts:
        chunks.append(Chunk(first, int(pages[-1]["page"]), "\n\n".join(parts)))
    return chunks or [Chunk(1, 1, "")]


def _split(text: str, size: int) -> list[str]:
    return [text[start:start + size] for start in range(0, len(text), size)]


def clip(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars``, saying so, for prompts that must fit a model's context."""
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + f"\n\n[… document cut here: {len(text) - max_chars} more characters]"


@dataclass(frozen=True)
class PromptDefaults:
    """What an LLM processor says when the agent gives no ``instructions`` or the definition no
    ``user_message``."""

    instructions: str
    request: str


def prompt(defaults: PromptDefaults, options: Mapping[str, Any], heading: str, body: str) -> list[dict[str, str]]:
    """The agent's instructions as the system message; the request, ``heading`` and ``body`` as the user's."""
    instructions = str(options.get("instructions") or "").strip() or defaults.instructions
    request = str(options.get("user_message") or "").strip() or defaults.request
    return [{"role": "system", "content": instructions},
            {"role": "user", "content": f"{request}\n\n{heading}:\n\n{body}"}]
