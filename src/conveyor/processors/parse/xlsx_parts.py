"""The parts of a workbook that openpyxl's read-only mode leaves out: the sheet list with each sheet's part,
merged ranges, charts and comments (classic and threaded).

Merged ranges sit at the end of a sheet's XML, after the cells; the sheet is streamed to find them, with
every row dropped as soon as it is parsed.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from openpyxl.utils.cell import range_boundaries

from conveyor.processors.parse.charts import Chart, Resolver, read_chart
from conveyor.processors.parse.ooxml import R_ID, Element, Package, descendants, local_name, text_of

Range = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based, inclusive)

_THREADED_PLACEHOLDER = re.compile(r"^tc=\{")


@dataclass(frozen=True)
class SheetPart:
    name: str
    part: str  # the sheet's part name in the package
    visible: bool
    is_worksheet: bool  # False for chartsheets and dialog sheets


def sheet_parts(package: Package) -> list[SheetPart]:
    """The workbook's sheets in tab order."""
    workbook = next((rel.target for rel in package.related("", "/officeDocument")), "xl/workbook.xml")
    root = package.xml(workbook)
    if root is None:
        return []
    targets = {rel.id: rel for rel in package.relationships(workbook)}
    sheets: list[SheetPart] = []
    for sheet in descendants(root, "sheet"):
        rel = targets.get(sheet.get(R_ID, ""))
        if rel is not None and not rel.external:
            sheets.append(SheetPart(name=sheet.get("name", ""), part=rel.target,
                                    visible=sheet.get("state", "visible") == "visible",
                                    is_worksheet=rel.type.endswith("/worksheet")))
    return sheets


def merged_ranges(archive: zipfile.ZipFile, part: str) -> list[Range]:
    """The merged cell ranges of a worksheet, read by streaming its XML."""
    ranges: list[Range] = []
    with archive.open(part) as stream:
        for _, element in etree.iterparse(stream, events=("end",), resolve_entities=False, no_network=True):
            name = local_name(element)
            if name == "mergeCell":
                ranges.extend(_range(element.get("ref", "")))
            if name in ("row", "mergeCell", "sheetData"):
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
    return ranges


def _range(reference: str) -> Iterator[Range]:
    try:
        first_column, first_row, last_column, last_row = range_boundaries(reference)
    except (ValueError, TypeError):
        return
    if None not in (first_column, first_row, last_column, last_row):
        yield first_row, first_column, last_row, last_column


def sheet_charts(package: Package, part: str, resolve: Resolver) -> list[Chart]:
    """The charts drawn on a sheet, in the order of the drawing's anchors."""
    charts: list[Chart] = []
    for drawing in package.related(part, "/drawing"):
        root = package.xml(drawing.target)
        targets = {rel.id: rel.target for rel in package.related(drawing.target, "/chart")}
        for reference in () if root is None else descendants(root, "chart"):
            chart = package.xml(targets.get(reference.get(R_ID, ""), ""))
            if chart is not None:
                charts.append(read_chart(chart, resolve))
    return charts


def sheet_comments(package: Package, part: str, people: dict[str, str]) -> list[str]:
    """``CELL (author[, date]): text`` per comment: threaded comments and their replies, then the classic
    comments that are not stand-ins for threaded ones."""
    lines = [_threaded_line(comment, people) for rel in package.related(part, "/threadedComment")
             for comment in _elements(package, rel.target, "threadedComment")]
    for rel in package.related(part, "/comments"):
        root = package.xml(rel.target)
        authors = [] if root is None else [author.text or "" for author in descendants(root, "author")]
        for comment in _elements(package, rel.target, "comment"):
            author = _author(authors, comment.get("authorId", ""))
            if not (lines and _THREADED_PLACEHOLDER.match(author)):
                lines.append(_line(comment.get("ref", ""), [author], _text(next(descendants(comment, "text"), None))))
    return lines


def people(package: Package) -> dict[str, str]:
    """Threaded-comment authors by person id, from the workbook's person list."""
    workbook = next((rel.target for rel in package.related("", "/officeDocument")), "xl/workbook.xml")
    found: dict[str, str] = {}
    for rel in package.related(workbook, "/person"):
        for person in _elements(package, rel.target, "person"):
            found[person.get("id", "")] = person.get("displayName", "")
    return found


def _elements(package: Package, part: str, name: str) -> Iterator[Element]:
    root = package.xml(part)
    return iter(()) if root is None else descendants(root, name)


def _author(authors: list[str], index: str) -> str:
    return authors[int(index)] if index.isdigit() and int(index) < len(authors) else ""


def _threaded_line(comment: Element, people: dict[str, str]) -> str:
    who = [people.get(comment.get("personId", ""), ""), comment.get("dT", "")]
    return _line(comment.get("ref", ""), who, _text(next(descendants(comment, "text"), None)))


def _line(reference: str, who: list[str], text: str) -> str:
    credit = ", ".join(part for part in who if part)
    label = f"{reference} ({credit})" if credit else reference
    return f"{label}: {text}" if label else text


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    return " ".join((text_of(element) if len(element) else element.text or "").split())
