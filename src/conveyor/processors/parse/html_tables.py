"""HTML tables with ``colspan``/``rowspan`` cells rewritten as plain grids, for markdown tables.

Markdown tables have no merged cells, so a spanning cell's text is repeated in every grid position it
covers. Copies carry the cell's text only.
"""

from __future__ import annotations

from bs4 import Tag
from bs4.element import NavigableString

_MAX_SPAN = 100


def expand_spans(root: Tag) -> None:
    """Rewrite every table under ``root`` in place so that no cell spans rows or columns."""
    for table in root.find_all("table"):
        pending: dict[int, tuple[Tag, int]] = {}  # grid column → (spanning cell, rows it still covers)
        for row in table.find_all("tr"):
            if row.find_parent("table") is table:
                _expand_row(row, pending)


def _expand_row(row: Tag, pending: dict[int, tuple[Tag, int]]) -> None:
    cells: list[Tag] = []
    for cell in row.find_all(["td", "th"], recursive=False):
        _fill_pending(cells, pending)
        columns, rows = _span(cell, "colspan"), _span(cell, "rowspan")
        for offset in range(columns):
            cells.append(cell if offset == 0 else _text_copy(cell))
            if rows > 1:
                pending[len(cells) - 1] = (cell, rows - 1)
    _fill_pending(cells, pending)
    for child in list(row.children):  # whitespace between cells would end up before the moved cells
        if isinstance(child, NavigableString) and not child.strip():
            child.extract()
    for cell in cells:
        row.append(cell)


def _fill_pending(cells: list[Tag], pending: dict[int, tuple[Tag, int]]) -> None:
    """Add copies of the cells spanning down into this row at the current grid position."""
    while len(cells) in pending:
        cell, rows = pending.pop(len(cells))
        if rows > 1:
            pending[len(cells)] = (cell, rows - 1)
        cells.append(_text_copy(cell))


def _span(cell: Tag, attribute: str) -> int:
    value = cell.attrs.pop(attribute, "1")
    text = value.strip() if isinstance(value, str) else "1"
    return max(1, min(int(text), _MAX_SPAN)) if text.isdigit() else 1


def _text_copy(cell: Tag) -> Tag:
    copy = Tag(name=cell.name)
    copy.string = cell.get_text(" ", strip=True)
    return copy
