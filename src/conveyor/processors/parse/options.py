"""The options of the ``parse`` processor, checked: a bad value fails the item with a clear message.

- ``ocr``: ``"auto"`` (default) recognises text in images and in PDF pages without a text layer,
  ``"off"`` never runs OCR, ``"force"`` runs it on every PDF page even where there is text.
- ``pages``: which pages of a PDF (or frames of a TIFF) to parse, as ``"1-3,5"``, ``"7-"`` (to the end);
  1-based, inclusive. Pages past the end of a document are ignored; a selection that matches none fails.
- ``formats``: which artifacts to produce, any of ``"markdown"``, ``"text"``, ``"pages"`` (default all).
- ``password``: opens an encrypted PDF.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conveyor.errors import PermanentError

OCR_MODES = ("auto", "off", "force")
FORMATS = ("markdown", "text", "pages")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$")


@dataclass(frozen=True)
class PageRange:
    """Inclusive 1-based page spans; ``last`` ``None`` runs to the end of the document."""

    spans: tuple[tuple[int, int | None], ...]

    def numbers(self, count: int) -> list[int]:
        """The selected page numbers of a document of ``count`` pages, ascending, each once."""
        chosen = {number for first, last in self.spans
                  for number in range(first, min(count, last if last is not None else count) + 1)}
        if not chosen:
            raise PermanentError(f"option 'pages' selects no page: the document has {count} page(s)")
        return sorted(chosen)


@dataclass(frozen=True)
class ParseOptions:
    ocr: str = "auto"
    pages: PageRange | None = None
    formats: tuple[str, ...] = FORMATS
    password: str | None = None

    def page_numbers(self, count: int) -> list[int]:
        """The 1-based numbers of the pages to parse in a document of ``count`` pages."""
        return list(range(1, count + 1)) if self.pages is None else self.pages.numbers(count)


def parse_options(options: Mapping[str, Any]) -> ParseOptions:
    """The checked options; raises :class:`PermanentError` naming the option and what it accepts."""
    password = options.get("password")
    return ParseOptions(ocr=_ocr(options.get("ocr")), pages=_pages(options.get("pages")),
                        formats=_formats(options.get("formats")),
                        password=None if password is None else str(password))


def _ocr(value: Any) -> str:
    if value is None:
        return "auto"
    if value not in OCR_MODES:
        raise PermanentError(f"option 'ocr' must be one of {', '.join(OCR_MODES)}, not {value!r}")
    return str(value)


def _pages(value: Any) -> PageRange | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise PermanentError(f"option 'pages' must be a page range like \"1-3,5\", not {value!r}")
    return PageRange(spans=tuple(_span(part, value) for part in value.split(",")))


def _span(part: str, whole: str) -> tuple[int, int | None]:
    match = _RANGE.match(part)
    if match is None:
        raise PermanentError(f"option 'pages' must be a page range like \"1-3,5\", not {whole!r}")
    first = int(match.group(1))
    last = first if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
    if first < 1 or (last is not None and last < first):
        raise PermanentError(f"option 'pages': {part.strip()!r} is not a range of page numbers from 1 up")
    return first, last


def _formats(value: Any) -> tuple[str, ...]:
    if value is None:
        return FORMATS
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not names or not all(name in FORMATS for name in names):
        raise PermanentError(f"option 'formats' must be a non-empty list of {', '.join(FORMATS)}, not {value!r}")
    return tuple(name for name in FORMATS if name in names)
