"""CSV and TSV files: one markdown table, the delimiter sniffed, ragged rows padded."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conveyor.errors import PermanentError
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.tables import markdown_table, pad_rows
from conveyor.processors.parse.text import decode_text

_DELIMITERS = ",;\t|"
_SNIFF_SIZE = 64 * 1024


def parse_csv(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    content = decode_text(path.read_bytes())
    rows = pad_rows(_read_rows(content))
    markdown = markdown_table(rows)
    text = "\n".join("\t".join(cell.strip() for cell in row) for row in rows)
    return ParsedDocument.single_page(markdown=markdown, text=text)


def _read_rows(content: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(content.splitlines(keepends=True), _dialect(content)) if any(row)]
    except csv.Error as e:
        raise PermanentError(f"not a valid CSV file: {e}") from e


def _dialect(content: str) -> type[csv.Dialect] | str:
    """The sniffed dialect, or plain ``excel`` (comma) when sniffing fails (one column, say)."""
    try:
        return csv.Sniffer().sniff(content[:_SNIFF_SIZE], delimiters=_DELIMITERS)
    except csv.Error:
        return "excel"
