"""HTML tables with ``colspan``/``rowspan`` cells rewritten as plain grids, for markdown tables.

Markdown tables have no merged cells, so a spanning cell's text is repeated in every grid position it
covers; copies carry the cell's text only. Tables that hold other tables are left alone (markdown
cannot show them anyway): copying their cells would cost quadratic time on hostile nesting.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bs4 import Tag
from bs4.element import NavigableString, PreformattedString

_MAX_SPAN = 100
_MAX_COPIED_NODES = 2_000

Pending = dict[int, tuple[Tag, int]]  # grid column → (the cell spanning into it, rows it still covers)


def normalize_tables(root: Tag) -> None:
    """Prepare the tables under ``root`` for markdownify: expand spans, one header row at most."""
    _demote_multirow_heads(root)
    expand_spans(root)


def _demote_multirow_heads(root: Tag) -> None:
    """A ``<thead>`` of several rows becomes a ``<tbody>``: markdownify would not make any of them
    the header anyway, and it counts a header's rows once per row (quadratic time)."""
    for head in root.find_all("thead"):
        if len(head.find_all("tr", recursive=False, limit=2)) > 1:
            head.name = "tbody"


def expand_spans(root: Tag) -> None:
    """Rewrite the tables under ``root`` in place so that no cell spans rows or columns."""
    rows, containers = _rows_by_table(root)
    pending_by_table: dict[int, Pending] = {}
    for row, table in rows:
        if id(table) not in containers:
            _expand_row(row, pending_by_table.setdefault(id(table), {}))


def _rows_by_table(root: Tag) -> tuple[list[tuple[Tag, Tag]], set[int]]:
    """Every row with its nearest enclosing table, in document order, and the ids of the tables that
    hold other tables. One walk of the tree, so rows nested ever deeper (``<tr><td><tr><td>…``, which
    the parser nests rather than closes) cost linear time.
    """
    rows: list[tuple[Tag, Tag]] = []
    containers: set[int] = set()
    stack: list[tuple[Tag, Tag | None]] = [(root, None)]  # (node, nearest table above it)
    while stack:
        node, table = stack.pop()
        if table is not None and node.name in ("tr", "table"):
            if node.name == "tr":
                rows.append((node, table))
            else:
                containers.add(id(table))
        inner = node if node.name == "table" else table
        stack.extend((child, inner) for child in reversed(node.contents) if isinstance(child, Tag))
    return rows, containers


def _expand_row(row: Tag, pending: Pending) -> None:
    """Insert copies of spanning cells into one row; cells already there are never moved."""
    cells = row.find_all(["td", "th"], recursive=False)
    spans = [(_span(cell, "colspan"), _span(cell, "rowspan")) for cell in cells]
    if not pending and all(span == (1, 1) for span in spans):
        return
    column = 0
    for cell, (columns, rows) in zip(cells, spans, strict=True):
        column = _fill_pending(pending, column, cell.insert_before)
        anchor = cell
        for offset in range(columns):
            if offset:
                copy = _text_copy(cell)
                anchor.insert_after(copy)
                anchor = copy
            if rows > 1:
                pending[column] = (cell, rows - 1)
            column += 1
    _fill_pending(pending, column, row.append)


def _fill_pending(pending: Pending, column: int, insert: Callable[[Tag], object]) -> int:
    """Insert copies of the cells spanning down into this row at ``column``; return the next column."""
    while column in pending:
        cell, rows = pending.pop(column)
        if rows > 1:
            pending[column] = (cell, rows - 1)
        insert(_text_copy(cell))
        column += 1
    return column


def _span(cell: Tag, attribute: str) -> int:
    value = cell.attrs.pop(attribute, "1")
    text = value.strip() if isinstance(value, str) else "1"
    return max(1, min(int(text), _MAX_SPAN)) if text.isdigit() else 1


def _text_copy(cell: Tag) -> Tag:
    nodes = itertools.islice(cell.descendants, _MAX_COPIED_NODES)
    strings = (str(node) for node in nodes
               if isinstance(node, NavigableString) and not isinstance(node, PreformattedString))
    copy = Tag(name=cell.name)
    copy.string = " ".join(" ".join(strings).split())
    return copy
