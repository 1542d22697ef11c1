"""The ``parse`` processor: files to markdown, plain text and per-page text.

:func:`parse_file` is a plain synchronous function that reads only the path it is given, so it can run
in a worker process; :class:`~conveyor.processors.parse.processor.ParseProcessor` runs it there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from conveyor.errors import ConveyorError, PermanentError
from conveyor.processors.parse import formats
from conveyor.processors.parse.csv import parse_csv
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.docx import parse_docx
from conveyor.processors.parse.formats import SUPPORTED_MEDIA_TYPES, detect_media_type
from conveyor.processors.parse.html import parse_html
from conveyor.processors.parse.images import parse_image
from conveyor.processors.parse.markdown import parse_markdown
from conveyor.processors.parse.options import parse_options
from conveyor.processors.parse.pdf import parse_pdf
from conveyor.processors.parse.pptx import parse_pptx
from conveyor.processors.parse.text import parse_text
from conveyor.processors.parse.xlsx import parse_xlsx

__all__ = ["SUPPORTED_MEDIA_TYPES", "ParsedDocument", "detect_media_type", "parse_file"]

Parser = Callable[[Path, Mapping[str, Any]], ParsedDocument]

_PARSERS: Mapping[str, tuple[str, Parser]] = MappingProxyType({
    formats.PDF: ("PDF", parse_pdf),
    formats.DOCX: ("DOCX", parse_docx),
    formats.PPTX: ("PPTX", parse_pptx),
    formats.XLSX: ("XLSX", parse_xlsx),
    formats.XLSM: ("XLSX", parse_xlsx),
    formats.HTML: ("HTML", parse_html),
    formats.XHTML: ("HTML", parse_html),
    formats.MARKDOWN: ("Markdown", parse_markdown),
    "text/x-markdown": ("Markdown", parse_markdown),
    formats.CSV: ("CSV", parse_csv),
    formats.TSV: ("CSV", parse_csv),
    formats.TEXT: ("text", parse_text),
    **{media_type: ("image", parse_image) for media_type in formats.IMAGE_TYPES},
})


def parse_file(path: Path, media_type: str, options: Mapping[str, Any]) -> ParsedDocument:
    """Parse the file at ``path`` as ``media_type``; ``options`` are described in
    :mod:`~conveyor.processors.parse.options` (``password`` opens an encrypted PDF).

    Raises :class:`PermanentError` for an unsupported media type, an invalid option, and an empty,
    corrupt or unreadable file.
    """
    parse_options(options)
    label, parser = _parser(media_type)
    if path.stat().st_size == 0:
        raise PermanentError("file is empty")
    try:
        return parser(path, options)
    except ConveyorError:
        raise
    except RecursionError as e:
        raise PermanentError(f"{label} file is nested too deeply to parse") from e
    except MemoryError as e:
        raise PermanentError(f"{label} file is too large to parse") from e
    except Exception as e:
        # The format libraries raise all kinds of exceptions on malformed input (KeyError, lxml and
        # zip errors, assertions …). Parsing is deterministic, so trying again cannot help.
        raise PermanentError(f"not a valid {label} file: {type(e).__name__}: {e}") from e


def _parser(media_type: str) -> tuple[str, Parser]:
    found = _PARSERS.get(formats.normalize_media_type(media_type))
    if found is None:
        raise PermanentError(f"unsupported media type {media_type!r}", media_type=media_type)
    return found
