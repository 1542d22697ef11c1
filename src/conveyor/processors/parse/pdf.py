"""PDF files (pypdfium2): the text layer of each page as paragraphs, with headings and list items; OCR for
scanned pages.

PDFium hands out a page's text in reading order, one line per ``\\r\\n``. Lines are grouped into
paragraphs by their vertical spacing, words hyphenated across lines are re-joined, and short lines set
larger (or bold) than the body text become headings. Structure only ever adds markup: every character
of the text layer but control characters ends up in the output. Pages without a text layer are rendered
and recognised by OCR (see :mod:`~conveyor.processors.parse.pdf_page` and the ``ocr`` option).

The ``pages`` JSON gives each page's size and its blocks (paragraphs, headings, list items; ``ocr_line``
for recognised pages) with bounding boxes in points from the top-left corner of the page as displayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from conveyor.errors import PermanentError
from conveyor.processors.parse.document import Block, PageLayout, ParsedDocument
from conveyor.processors.parse.options import parse_options
from conveyor.processors.parse.pdf_layout import HeadingKey, Paragraph, heading_levels
from conveyor.processors.parse.pdf_page import PdfPage, read_page


def parse_pdf(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    settings = parse_options(options)
    pdf = _open(path, settings.password)
    try:
        if len(pdf) == 0:
            raise PermanentError("PDF has no pages")
        pages = [read_page(pdf, number, settings.ocr) for number in settings.page_numbers(len(pdf))]
    finally:
        pdf.close()
    return _document(pages)


def _open(path: Path, password: str | None) -> Any:
    try:
        return pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as e:
        raise PermanentError(_open_error(e, password), reason=getattr(e, "err_code", None)) from e


def _open_error(error: pdfium.PdfiumError, password: str | None) -> str:
    code = getattr(error, "err_code", None)
    if code == pdfium.raw.FPDF_ERR_PASSWORD:
        return "PDF is encrypted and the password given is wrong" if password else \
            "PDF is encrypted and no password was given"
    if code == pdfium.raw.FPDF_ERR_SECURITY:
        return "PDF uses an unsupported security scheme"
    return f"not a valid PDF file: {error}"


def _document(pages: list[PdfPage]) -> ParsedDocument:
    levels = heading_levels([paragraph for page in pages for paragraph in page.paragraphs])
    markdown = [_markdown(page, levels) for page in pages]
    return ParsedDocument.from_layouts(markdown="\n\n".join(text for text in markdown if text),
                                       layouts=[_layout(page, levels) for page in pages])


def _markdown(page: PdfPage, levels: Mapping[HeadingKey, int]) -> str:
    if page.ocr is not None:
        return page.ocr.markdown
    return "\n\n".join(paragraph.markdown(levels) for paragraph in page.paragraphs)


def _layout(page: PdfPage, levels: Mapping[HeadingKey, int]) -> PageLayout:
    width, height = page.frame.size
    if page.ocr is not None:
        return PageLayout(number=page.number, width=width, height=height, text=page.ocr.text,
                          blocks=page.ocr.blocks(page.scale), markdown=page.ocr.markdown)
    return PageLayout(number=page.number, width=width, height=height,
                      text="\n\n".join(paragraph.text for paragraph in page.paragraphs),
                      blocks=[_block(paragraph, page, levels) for paragraph in page.paragraphs],
                      markdown=_markdown(page, levels))


def _block(paragraph: Paragraph, page: PdfPage, levels: Mapping[HeadingKey, int]) -> Block:
    level = paragraph.level(levels)
    kind = "list_item" if paragraph.is_list_item else "heading" if level else "paragraph"
    box = None if paragraph.box is None else page.frame.display_box(*paragraph.box)
    return Block(type=kind, text=paragraph.text, bbox=box, level=level)
