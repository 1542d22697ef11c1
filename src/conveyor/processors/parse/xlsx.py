"""XLSX and XLSM files (openpyxl, read-only): one page per visible worksheet, under a ``## name`` heading.

Cells are streamed row by row with their cached values (formulas are not recomputed). Declared sheet
dimensions are ignored, so a sheet that claims a million rows costs only the rows it has. A workbook
gives at most :data:`MAX_CELLS` values and has :data:`MAX_SCANNED` cells looked at; a sheet cut short
says so in a note. Merged ranges repeat their value in every cell they cover. The cells are laid out as
tables split at empty rows and columns (:mod:`~conveyor.processors.parse.sheet_layout`); a sheet's charts
(title and data) and comments follow its tables. Hidden sheets and chartsheets are skipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import range_boundaries

from conveyor.errors import PermanentError
from conveyor.processors.parse.charts import MAX_CHART_ROWS, Resolver
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.ooxml import Package
from conveyor.processors.parse.sheet_layout import Block, Cells, sheet_blocks
from conveyor.processors.parse.xlsx_parts import (
    Range,
    SheetPart,
    merged_ranges,
    people,
    sheet_charts,
    sheet_comments,
    sheet_parts,
)

MAX_CELLS = 250_000
"""Values read per workbook; the rest of a workbook is left out with a note."""
MAX_SCANNED = 5_000_000
"""Cells (empty ones included) looked at per workbook."""
MAX_MERGE_FILL = 10_000
"""A merged range larger than this keeps its value in its first cell only."""
MAX_LOADED_PART = 100 * 1024 * 1024
"""openpyxl loads the shared strings and styles whole: a workbook whose are larger is refused."""
MAX_SHEET_PART = 256 * 1024 * 1024
"""A worksheet whose XML is larger than this is left out with a note."""

_LOADED_PARTS = re.compile(r"(?:^|/)(?:sharedStrings|styles|workbook)\d*\.xml$")
_TIME_CODES = re.compile(r"[hs]")
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


@dataclass
class _Budget:
    values: int = MAX_CELLS
    scanned: int = MAX_SCANNED


@dataclass
class _Sheet:
    name: str
    cells: Cells = field(default_factory=dict)
    note: str = ""


def parse_xlsx(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    with _open_zip(path) as archive, path.open("rb") as stream:
        package = Package(archive)
        _check_loaded_parts(archive)
        # a stream, not the path: openpyxl refuses paths whose extension it does not know, and stored
        # files have none
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True, keep_links=False)
        try:
            pages = _pages(archive, package, workbook)
        finally:
            workbook.close()
    if not pages:
        raise PermanentError("XLSX file has no visible worksheets")
    return ParsedDocument(
        markdown="\n\n".join(markdown for markdown, _ in pages),
        text="\n\n".join(text for _, text in pages),
        pages=[{"page": number, "text": text, "markdown": markdown}
               for number, (markdown, text) in enumerate(pages, start=1)],
    )


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise PermanentError("not a valid XLSX file: not a ZIP package") from e


def _check_loaded_parts(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        if _LOADED_PARTS.search(info.filename) and info.file_size > MAX_LOADED_PART:
            raise PermanentError(f"XLSX part {info.filename} is too large to read "
                                 f"({info.file_size // 2**20} MB uncompressed)")


def _pages(archive: zipfile.ZipFile, package: Package, workbook: Any) -> list[tuple[str, str]]:
    budget, authors = _Budget(), people(package)
    parts = [part for part in sheet_parts(package)
             if part.visible and part.is_worksheet and part.name in workbook.sheetnames]
    sheets = [_read_sheet(archive, package, part, workbook[part.name], budget) for part in parts]
    resolve = _resolver({sheet.name: sheet.cells for sheet in sheets})
    return [_render(sheet, _extras(package, part, authors, resolve)) for part, sheet in zip(parts, sheets, strict=True)]


def _read_sheet(archive: zipfile.ZipFile, package: Package, part: SheetPart, worksheet: Any,
                budget: _Budget) -> _Sheet:
    sheet = _Sheet(name=part.name)
    if package.size(part.part) > MAX_SHEET_PART:
        sheet.note = "This sheet was not read: it is too large."
    elif budget.values <= 0 or budget.scanned <= 0:
        sheet.note = "This sheet was not read: the workbook's cell limit was reached."
    elif not _read_cells(worksheet, sheet.cells, budget):
        sheet.note = f"This sheet is truncated: only its first {len(sheet.cells):,} values were read."
    elif package.has(part.part):
        _fill_merged(sheet.cells, merged_ranges(archive, part.part), budget)
    return sheet


def _read_cells(worksheet: Any, cells: Cells, budget: _Budget) -> bool:
    """Stream the sheet's values into ``cells``; ``False`` if the budget ran out first."""
    worksheet.reset_dimensions()  # the declared size may be wrong, or hostile
    for row in worksheet.iter_rows():
        budget.scanned -= len(row) + 1
        if budget.scanned < 0:
            return False
        for cell in row:
            text = "" if cell.value is None else cell_text(cell.value, cell.number_format)
            if text:
                if budget.values <= 0:
                    return False
                budget.values -= 1
                cells[(cell.row, cell.column)] = text
    return True


def cell_text(value: Any, number_format: str = "General") -> str:
    """A cell value as text: whole floats without ``.0``, dates without a time the format does not show."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if _shows_time(number_format) else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _shows_time(number_format: str) -> bool:
    return bool(_TIME_CODES.search(_QUOTED.sub("", number_format.lower())))


def _fill_merged(cells: Cells, ranges: list[Range], budget: _Budget) -> None:
    """Repeat a merged range's value in every cell of the range (small ranges, while the budget lasts)."""
    for first_row, first_column, last_row, last_column in ranges:
        text = cells.get((first_row, first_column))
        area = (last_row - first_row + 1) * (last_column - first_column + 1)
        if text is None or area > min(MAX_MERGE_FILL, budget.values):
            continue
        for row in range(first_row, last_row + 1):
            for column in range(first_column, last_column + 1):
                cells.setdefault((row, column), text)
        budget.values -= area


def _resolver(sheets: dict[str, Cells]) -> Resolver:
    """Reads chart references (``'Sheet 1'!$B$2:$B$9``) from the cells read, row by row."""

    def resolve(reference: str) -> list[str]:
        name, _, area = reference.rpartition("!")
        if len(name) > 1 and name[0] == name[-1] == "'":
            name = name[1:-1].replace("''", "'")
        cells = sheets.get(name)
        try:
            first_column, first_row, last_column, last_row = range_boundaries(area.replace("$", ""))
        except (ValueError, TypeError):
            return []
        if cells is None or None in (first_column, first_row, last_column, last_row):
            return []
        positions = itertools.product(range(first_row, last_row + 1), range(first_column, last_column + 1))
        return [cells.get(position, "") for position in itertools.islice(positions, MAX_CHART_ROWS)]

    return resolve


def _extras(package: Package, part: SheetPart, authors: dict[str, str], resolve: Resolver) -> list[Block]:
    charts = sheet_charts(package, part.part, resolve)
    blocks = [Block(markdown=chart.markdown(), text=chart.text()) for chart in charts]
    comments = sheet_comments(package, part.part, authors)
    if comments:
        blocks.append(Block(markdown="Comments:\n\n" + "\n".join(f"- {line}" for line in comments),
                            text="\n".join(["Comments:", *comments])))
    return blocks


def _render(sheet: _Sheet, extras: list[Block]) -> tuple[str, str]:
    blocks = [*sheet_blocks(sheet.cells), *extras]
    if sheet.note:
        blocks.append(Block(markdown=f"_{sheet.note}_", text=sheet.note))
    markdown = "\n\n".join([f"## {sheet.name}", *(block.markdown for block in blocks)])
    return markdown, "\n\n".join([sheet.name, *(block.text for block in blocks)])
