"""One PDF page: its text layer as paragraphs, or, for a scanned page, the OCR of its rendering.

With OCR ``"auto"`` a page is rendered and recognised only when its text layer is negligible (fewer than
:data:`MIN_TEXT_CHARS` letters and digits) and it draws images or many vector paths (a scan, or text
turned into outlines). Pages with a text layer pay nothing for the check: it counts characters of text
already extracted. ``"force"`` recognises every page, ``"off"`` none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pypdfium2.raw as pdfium_c

from conveyor.processors.parse.ocr import MAX_SIDE, OcrPage, read_image
from conveyor.processors.parse.pdf_geometry import PageFrame
from conveyor.processors.parse.pdf_layout import Paragraph, paragraphs
from conveyor.processors.parse.pdf_lines import Line, page_lines

MIN_TEXT_CHARS = 16
RENDER_SCALE = 2.0  # 144 dpi: body text of a scan comes out some 20-30 pixels high
_MIN_RENDER_SIDE = 1000  # pixels: small pages are rendered larger
_MIN_PATHS = 50  # a page drawing this many vector paths may hold text drawn as outlines


@dataclass(frozen=True)
class PdfPage:
    """A page read through its text layer (``paragraphs``) or OCR (``ocr``, at ``scale`` pixels per point)."""

    number: int
    frame: PageFrame
    paragraphs: list[Paragraph]
    ocr: OcrPage | None = None
    scale: float = 1.0


def read_page(pdf: Any, number: int, ocr: str) -> PdfPage:
    """Page ``number`` (1-based) of an open ``pypdfium2.PdfDocument``; ``ocr`` is the OCR mode."""
    page = pdf[number - 1]
    try:
        frame = PageFrame.of(page)
        lines = [] if ocr == "force" else _text_layer(page)
        if ocr == "force" or (ocr == "auto" and _looks_scanned(page, lines)):
            scale = _render_scale(frame)
            return PdfPage(number=number, frame=frame, paragraphs=[], scale=scale,
                           ocr=read_image(page.render(scale=scale).to_pil()))
        return PdfPage(number=number, frame=frame, paragraphs=paragraphs(lines))
    finally:
        page.close()


def _text_layer(page: Any) -> list[Line]:
    textpage = page.get_textpage()
    try:
        return page_lines(textpage)
    finally:
        textpage.close()


def _looks_scanned(page: Any, lines: list[Line]) -> bool:
    """Whether a page has (next to) no text layer but draws something that could be text."""
    if _text_chars(lines) >= MIN_TEXT_CHARS:
        return False
    counts = _object_counts(page)
    return counts.get(pdfium_c.FPDF_PAGEOBJ_IMAGE, 0) > 0 or counts.get(pdfium_c.FPDF_PAGEOBJ_PATH, 0) >= _MIN_PATHS


def _text_chars(lines: list[Line]) -> int:
    """Letters and digits in ``lines``, counting stops at :data:`MIN_TEXT_CHARS`."""
    count = 0
    for line in lines:
        count += sum(1 for char in line.text if char.isalnum())
        if count >= MIN_TEXT_CHARS:
            break
    return count


def _object_counts(page: Any) -> dict[int, int]:
    counts: dict[int, int] = {}
    for obj in page.get_objects():
        counts[obj.type] = counts.get(obj.type, 0) + 1
    return counts


def _render_scale(frame: PageFrame) -> float:
    longest = max(*frame.size, 1.0)
    return min(MAX_SIDE / longest, max(RENDER_SCALE, _MIN_RENDER_SIDE / longest))
