"""Laying out a sheet's cells as markdown: separate tables where fully empty rows or columns part them.

The cells are cut recursively (an XY cut): at every fully empty row between occupied ones, then within
each band at every fully empty column, and so on. A region is then split into its groups of touching
cells, groups that share a row or a column merged again (a table with holes stays whole), so that two
tables meeting only at a corner come apart. Each region is one table; a region of one cell is a
paragraph, and a single value over a wider table (a title row) is a paragraph above it. A region far
sparser than its bounding box is written cell by cell instead of as a grid of empty cells.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from openpyxl.utils.cell import get_column_letter

from conveyor.processors.parse.tables import markdown_table

Cells = dict[tuple[int, int], str]  # (row, column), 1-based → text

MAX_CUT_DEPTH = 16
MAX_GROUPS = 100  # a region of more groups of touching cells than this is kept whole
_SPARSE_FACTOR = 20  # a region whose box holds more than this many cells per value is written cell by cell
_MIN_SPARSE_AREA = 10_000


@dataclass(frozen=True)
class Block:
    markdown: str
    text: str


def sheet_blocks(cells: Cells) -> list[Block]:
    """The blocks of a sheet's cells: tables and paragraphs, top to bottom, then left to right."""
    return [block for cut in regions(cells) for region in touching_groups(cut) for block in _region_blocks(region)]


def regions(cells: Cells, depth: int = 0) -> list[Cells]:
    """``cells`` cut at fully empty rows, then columns, recursively, in reading order."""
    if depth < MAX_CUT_DEPTH:
        for axis in (0, 1):
            groups = _groups(cells, axis)
            if len(groups) > 1:
                return [region for group in groups for region in regions(group, depth + 1)]
    return [cells] if cells else []


def _groups(cells: Cells, axis: int) -> list[Cells]:
    """``cells`` split at every gap between occupied rows (axis 0) or columns (axis 1)."""
    band_of: dict[int, int] = {}
    previous = None
    for key in sorted({position[axis] for position in cells}):
        band = 0 if previous is None else band_of[previous] + (key > previous + 1)
        band_of[key], previous = band, key
    groups: list[Cells] = [{} for _ in range(len(set(band_of.values())))]
    for position, text in cells.items():
        groups[band_of[position[axis]]][position] = text
    return groups


def touching_groups(region: Cells) -> list[Cells]:
    """``region`` split into groups of cells that touch side by side, groups sharing rows or columns merged."""
    groups = _components(region)
    if len(groups) > MAX_GROUPS:
        return [region]
    boxes = [_box(group) for group in groups]
    merged = True
    while merged:
        merged = False
        for first, second in ((i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))):
            if _overlap(boxes[first], boxes[second]):
                groups[first].update(groups.pop(second))
                boxes[first] = _box(groups[first])
                del boxes[second]
                merged = True
                break
    return [group for _, group in sorted(zip(boxes, groups, strict=True), key=lambda item: item[0][:2])]


def _components(region: Cells) -> list[Cells]:
    """The 4-connected groups of ``region``'s cells."""
    unseen = set(region)
    groups: list[Cells] = []
    while unseen:
        stack = [unseen.pop()]
        group: Cells = {}
        while stack:
            row, column = stack.pop()
            group[(row, column)] = region[(row, column)]
            for neighbour in ((row - 1, column), (row + 1, column), (row, column - 1), (row, column + 1)):
                if neighbour in unseen:
                    unseen.remove(neighbour)
                    stack.append(neighbour)
        groups.append(group)
        if len(groups) > MAX_GROUPS:
            break
    return groups


Box = tuple[int, int, int, int]  # first row, first column, last row, last column


def _box(group: Cells) -> Box:
    rows, columns = _bounds(group)
    return rows.start, columns.start, rows.stop - 1, columns.stop - 1


def _overlap(first: Box, second: Box) -> bool:
    """Whether two boxes share a row or a column."""
    return (first[0] <= second[2] and second[0] <= first[2]) or (first[1] <= second[3] and second[1] <= first[3])


def _region_blocks(region: Cells) -> Iterator[Block]:
    if len(region) == 1:
        text = next(iter(region.values()))
        yield Block(markdown=" ".join(text.split()), text=text)
        return
    if _is_sparse(region):
        yield _cell_list(region)
        return
    rows = _grid(region)
    while len(rows) > 2 and len(rows[0]) > 1 and _distinct(rows[0]) == 1 and _distinct(rows[1]) > 1:
        title = next(text for text in rows[0] if text)
        yield Block(markdown=" ".join(title.split()), text=title)
        rows = rows[1:]
    yield Block(markdown=markdown_table(rows), text="\n".join("\t".join(row) for row in rows))


def _distinct(row: Sequence[str]) -> int:
    return len({text for text in row if text})


def _bounds(region: Cells) -> tuple[range, range]:
    rows = [row for row, _ in region]
    columns = [column for _, column in region]
    return range(min(rows), max(rows) + 1), range(min(columns), max(columns) + 1)


def _is_sparse(region: Cells) -> bool:
    rows, columns = _bounds(region)
    area = len(rows) * len(columns)
    return area > _MIN_SPARSE_AREA and area > _SPARSE_FACTOR * len(region)


def _grid(region: Cells) -> list[list[str]]:
    rows, columns = _bounds(region)
    return [[region.get((row, column), "") for column in columns] for row in rows]


def _cell_list(region: Cells) -> Block:
    lines = [f"{get_column_letter(column)}{row}: {' '.join(text.split())}"
             for (row, column), text in sorted(region.items())]
    return Block(markdown="\n".join(f"- {line}" for line in lines), text="\n".join(lines))
