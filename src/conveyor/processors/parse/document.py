"""What parsing a file yields: markdown, plain text, and the text (and, where known, layout) of each page.

Formats with geometry (PDF, images) describe each page as
``{"page": n, "width": w, "height": h, "text": ..., "markdown": ..., "blocks": [...]}``. A block is
``{"type": ..., "text": ..., "bbox": [x0, y0, x1, y1]}`` with ``type`` one of :data:`BLOCK_TYPES`;
coordinates have their origin at the top-left corner of the page as displayed (after any page
rotation), x growing to the right and y downwards, in PDF points (1/72 inch) for PDF pages and in
pixels for images. Headings carry their ``level`` (1 is the largest), OCR lines their mean recognition
``confidence`` (0 to 1). Formats
without geometry give ``{"page": n, "text": ...}`` (with the page's ``markdown`` where a format has pages:
slides, sheets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BLOCK_TYPES = ("paragraph", "heading", "list_item", "table", "ocr_line")

BBox = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)``: left, top, right, bottom, top-left origin."""


@dataclass(frozen=True)
class Block:
    """One piece of a page's content where it sits on the page; ``bbox`` is ``None`` when unknown."""

    type: str
    text: str
    bbox: BBox | None = None
    confidence: float | None = None
    level: int | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"type": self.type, "text": self.text}
        if self.level is not None:
            found["level"] = self.level
        if self.bbox is not None:
            found["bbox"] = [round(value, 2) for value in self.bbox]
        if self.confidence is not None:
            found["confidence"] = round(self.confidence, 3)
        return found


@dataclass(frozen=True)
class PageLayout:
    """A page with a size: its number (1-based), width and height, text, and blocks in reading order."""

    number: int
    width: float
    height: float
    text: str
    blocks: list[Block] = field(default_factory=list)
    markdown: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"page": self.number, "width": round(self.width, 2), "height": round(self.height, 2),
                "text": self.text, "markdown": self.markdown, "blocks": [block.to_json() for block in self.blocks]}


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed file. ``pages`` holds one JSON object per page (see the module docstring), one page if
    the format has no pages."""

    markdown: str
    text: str
    pages: list[dict[str, Any]]

    @classmethod
    def single_page(cls, markdown: str, text: str) -> ParsedDocument:
        """A document of a format without pages or geometry."""
        return cls(markdown=markdown, text=text, pages=[{"page": 1, "text": text}])

    @classmethod
    def from_layouts(cls, markdown: str, layouts: list[PageLayout]) -> ParsedDocument:
        """A document of pages with geometry; its text is the pages' texts, blank pages left out."""
        return cls(markdown=markdown, text="\n\n".join(page.text for page in layouts if page.text),
                   pages=[page.to_json() for page in layouts])
