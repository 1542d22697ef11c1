"""Plain text: bytes to ``str`` with a simple charset guess, and the text format itself."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conveyor.errors import PermanentError
from conveyor.processors.parse.document import ParsedDocument

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> str:
    """Decode a text file: by its BOM, else UTF-8, else UTF-16 without BOM, else Windows-1252/Latin-1.

    Raises :class:`PermanentError` when the bytes are binary rather than text.
    """
    encoding = _bom_encoding(data) or _guess_encoding(data)
    text = data.decode(encoding, errors="replace")
    if "\x00" in text:
        raise PermanentError("file is not text: it contains NUL bytes", encoding=encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _bom_encoding(data: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def _guess_encoding(data: bytes) -> str:
    if _decodes(data, "utf-8"):
        return "utf-8"
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    return "cp1252" if _decodes(data, "cp1252") else "latin-1"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(data: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a NUL in every other byte: odd positions for LE, even for BE."""
    if len(data) < 2 or len(data) % 2:
        return None
    half = len(data) // 2
    if data[1::2].count(0) > half * 0.6:
        return "utf-16-le"
    if data[0::2].count(0) > half * 0.6:
        return "utf-16-be"
    return None


def parse_text(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    """A plain text file: its text is its markdown too."""
    text = decode_text(path.read_bytes()).strip("\n")
    return ParsedDocument.single_page(markdown=text, text=text)
