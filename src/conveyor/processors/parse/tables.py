"""Markdown tables, shared by the formats that have tables (CSV, DOCX)."""

from __future__ import annotations

from collections.abc import Sequence


def pad_rows(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """Ragged rows padded with empty cells to the widest row's length."""
    width = max((len(row) for row in rows), default=0)
    return [[*row, *[""] * (width - len(row))] for row in rows]


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table of ``rows`` (padded first); the first row is the header."""
    padded = pad_rows(rows)
    if not padded or not padded[0]:
        return ""
    lines = [_markdown_row(padded[0]), _markdown_row(["---"] * len(padded[0]))]
    lines.extend(_markdown_row(row) for row in padded[1:])
    return "\n".join(lines)


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |"


def _markdown_cell(cell: str) -> str:
    return " ".join(cell.split()).replace("|", "\\|")
