"""What parsing a file yields: markdown, plain text, and the text of each page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed file. ``pages`` holds ``{"page": n, "text": ...}`` per page, one page if unpaginated."""

    markdown: str
    text: str
    pages: list[dict[str, Any]]

    @classmethod
    def single_page(cls, markdown: str, text: str) -> ParsedDocument:
        """A document of a format without pages (everything but PDF)."""
        return cls(markdown=markdown, text=text, pages=[{"page": 1, "text": text}])
