"""The lines of a PDF page's text layer, each with the size, weight and position of its letters.

One call fetches the whole page text; the style and position of a line are read from its first and
last letters only, which keeps the cost at a handful of PDFium calls per line.
"""

from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

_LINE = re.compile(r"[^\r\n]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\uffff]")
_SOFT_HYPHEN_IN_LINE = re.compile(r"\ufffe(?=\S)")
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|cmbx|sfbx", re.I)
_FONT_NAME_SIZE = 256
_BOLD_WEIGHT = 600


@dataclass(frozen=True)
class Line:
    """One line of text. Sizes and coordinates are PDF points; ``size`` 0 means unknown."""

    text: str
    size: float = 0.0
    bold: bool = False
    left: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    top: float = 0.0

    @property
    def has_geometry(self) -> bool:
        return self.size > 0


@dataclass(frozen=True)
class _Style:
    size: float
    bold: bool


_ALEF_LAM = re.compile("[\u0622\u0623\u0625\u0627]\u0644")


def page_lines(textpage: Any) -> list[Line]:
    """The non-blank lines of a page, in PDFium's reading order."""
    reader = _PageReader(textpage)
    text = _unswap_lam_alef(textpage, textpage.get_text_range())
    lines = (reader.line(match.start(), match.group()) for match in _LINE.finditer(text))
    return [line for line in lines if line.text.strip()]


def clean(text: str) -> str:
    """Drop control characters; a line-break hyphen PDFium marks inside a line (U+FFFE) joins the word.

    A U+FFFE at the end of a line becomes a soft hyphen, for the paragraph builder to join.
    """
    return _CONTROL.sub("", _SOFT_HYPHEN_IN_LINE.sub("", text)).replace("\ufffe", "\xad")


class _PageReader:
    """Measures the lines of one page; remembers which of the page's fonts are bold."""

    def __init__(self, textpage: Any) -> None:
        self._textpage = textpage
        self._bold_fonts: dict[int, bool] = {}

    def line(self, offset: int, raw: str) -> Line:
        text = clean(raw)
        first, last = _letter_span(raw)
        try:
            return self._measured(text, offset + first, offset + last)
        except (pdfium.PdfiumError, ValueError):
            return Line(text=text)

    def _measured(self, text: str, first: int, last: int) -> Line:
        start, end = self._char_index(first), self._char_index(last)
        left, bottom, _, top = self._textpage.get_charbox(start, loose=True)
        right = self._textpage.get_charbox(end, loose=True)[2] if end != start else left
        head = self._char_style(start)
        bold = head.bold and (end == start or self._char_style(end).bold)
        return Line(text=text, size=head.size, bold=bold, left=left, right=right, bottom=bottom, top=top)

    def _char_index(self, text_index: int) -> int:
        return _char_index(self._textpage, text_index)

    def _char_style(self, index: int) -> _Style:
        """The rendered size (font size times the text matrix scale) and boldness of a character."""
        obj = pdfium_c.FPDFText_GetTextObject(self._textpage, index)
        if not obj:
            raise ValueError(f"no text object for character {index}")
        size = ctypes.c_float()
        matrix = pdfium_c.FS_MATRIX()
        if not (pdfium_c.FPDFTextObj_GetFontSize(obj, size) and pdfium_c.FPDFPageObj_GetMatrix(obj, matrix)):
            raise ValueError(f"no font size for character {index}")
        scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
        bold = self._is_bold(pdfium_c.FPDFTextObj_GetFont(obj))
        return _Style(size=round(size.value * scale, 1), bold=bold)

    def _is_bold(self, font: Any) -> bool:
        if not font:
            return False
        key = ctypes.cast(font, ctypes.c_void_p).value or 0
        if key not in self._bold_fonts:
            self._bold_fonts[key] = _font_is_bold(font)
        return self._bold_fonts[key]


def _unswap_lam_alef(textpage: Any, text: str) -> str:
    """Put Arabic lam-alef ligatures back in logical order.

    A lam-alef ligature is one glyph; PDFium spells it out as alef then lam (visual order), both letters
    with the glyph's one box, so "الإنتاجية" comes out "اإلنتاجية". A real alef followed by a lam (the
    article "ال", or "إلى") has two glyphs and two boxes, and is left alone.
    """
    if "\u0644" not in text:
        return text
    chars = list(text)
    for match in _ALEF_LAM.finditer(text):
        first, second = match.start(), match.start() + 1
        try:
            boxes = [textpage.get_charbox(_char_index(textpage, index)) for index in (first, second)]
        except (pdfium.PdfiumError, ValueError):
            continue
        if boxes[0] == boxes[1]:
            chars[first], chars[second] = chars[second], chars[first]
    return "".join(chars)


def _char_index(textpage: Any, text_index: int) -> int:
    index = int(pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, text_index))
    if index < 0:
        raise ValueError(f"no character at text index {text_index}")
    return index


def _letter_span(raw: str) -> tuple[int, int]:
    """Positions of the first and last letter or digit of a line (else of any non-space)."""
    for accept in (str.isalnum, lambda char: not char.isspace()):
        first = next((index for index, char in enumerate(raw) if accept(char)), None)
        if first is not None:
            last = next(index for index in range(len(raw) - 1, -1, -1) if accept(raw[index]))
            return first, last
    return 0, 0


def _font_is_bold(font: Any) -> bool:
    name = ctypes.create_string_buffer(_FONT_NAME_SIZE)
    pdfium_c.FPDFFont_GetBaseFontName(font, name, _FONT_NAME_SIZE)
    weight = int(pdfium_c.FPDFFont_GetWeight(font))
    return weight >= _BOLD_WEIGHT or bool(_BOLD_FONT.search(name.value.decode("latin-1")))
