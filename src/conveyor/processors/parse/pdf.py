"""PDF files (pypdfium2): the text layer of each page as paragraphs, with headings and list items.

PDFium hands out a page's text in reading order, one line per ``\\r\\n``. Lines are grouped into
paragraphs by their vertical spacing, words hyphenated across lines are re-joined, and short lines set
larger (or bold) than the body text become headings. Structure only ever adds markup: every character
of the text layer but control characters ends up in the output. Pages without a text layer come out
empty (no OCR here).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from conveyor.errors import PermanentError
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.pdf_layout import Paragraph, heading_levels, paragraphs
from conveyor.processors.parse.pdf_lines import Line, page_lines


def parse_pdf(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    password = options.get("password")
    pdf = _open(path, None if password is None else str(password))
    try:
        pages = [_page(pdf, index) for index in range(len(pdf))]
    finally:
        pdf.close()
    if not pages:
        raise PermanentError("PDF has no pages")
    return _document([paragraphs(lines) for lines in pages])


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


def _page(pdf: Any, index: int) -> list[Line]:
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            return page_lines(textpage)
        finally:
            textpage.close()
    finally:
        page.close()


def _document(pages: list[list[Paragraph]]) -> ParsedDocument:
    levels = heading_levels([paragraph for page in pages for paragraph in page])
    markdown = [paragraph.markdown(levels) for page in pages for paragraph in page]
    texts = ["\n\n".join(paragraph.text for paragraph in page) for page in pages]
    return ParsedDocument(
        markdown="\n\n".join(markdown),
        text="\n\n".join(text for text in texts if text),
        pages=[{"page": number, "text": text} for number, text in enumerate(texts, start=1)],
    )
