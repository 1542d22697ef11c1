"""DOCX files (python-docx): headings → ``#``, list items → ``-``, tables → markdown tables.

The body is read at the XML level, block by block, so text that python-docx's ``Paragraph.text`` leaves
out (content controls, text boxes, equations) is kept. Equations become LaTeX: ``$…$`` within text, and
``$$…$$`` blocks for a paragraph that holds nothing but equations. Charts give their title and data.
Comments live in their own part and are skipped.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn

from conveyor.errors import PermanentError
from conveyor.processors.parse.charts import read_chart
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.docx_strict import is_strict, transitional_copy
from conveyor.processors.parse.omml import to_latex
from conveyor.processors.parse.ooxml import R_ID, parse_xml
from conveyor.processors.parse.tables import markdown_table

Element = Any  # an lxml element of the document body (python-docx and lxml ship no type hints)

_MATH = "{http://schemas.openxmlformats.org/officeDocument/2006/math}oMath"
_CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}chart"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_HEADING_NAME = re.compile(r"^heading\s*(\d)$", re.I)
_MAX_STYLE_DEPTH = 10


@dataclass(frozen=True)
class _Style:
    heading_level: int  # 0: not a heading
    is_list: bool


@dataclass(frozen=True)
class _Block:
    markdown: str
    text: str


def parse_docx(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    document = _open(path)
    styles = _styles(document)
    blocks = list(_blocks(document.element.body, styles, document.part))
    return ParsedDocument.single_page(markdown="\n\n".join(block.markdown for block in blocks),
                                      text="\n\n".join(block.text for block in blocks))


def _open(path: Path) -> Any:
    try:
        return docx.Document(str(path))
    except KeyError as e:  # no main document part: maybe a Strict OOXML file, which names it differently
        if is_strict(path):
            return docx.Document(transitional_copy(path))
        raise PermanentError(f"not a valid DOCX file: {e}") from e
    except (PackageNotFoundError, zipfile.BadZipFile) as e:
        raise PermanentError("not a valid DOCX file: not a ZIP package") from e
    except ValueError as e:
        raise PermanentError(f"not a valid DOCX file: {e}") from e


def _styles(document: Any) -> dict[str, _Style]:
    """Paragraph styles by id: whether each makes a heading (and of which level) or a list item."""
    by_id = {style.get(qn("w:styleId")): style for style in document.styles.element.iter(qn("w:style"))}
    return {style_id: _style(element, by_id) for style_id, element in by_id.items() if style_id}


def _style(element: Element, by_id: Mapping[str, Element]) -> _Style:
    level, is_list = 0, False
    for _ in range(_MAX_STYLE_DEPTH):  # follow basedOn: a custom style based on "Heading 2" is one
        level = level or _heading_level(element)
        is_list = is_list or _has_numbering(element.find(qn("w:pPr")))
        base = _val(element.find(qn("w:basedOn")))
        if base is None or base not in by_id:
            break
        element = by_id[base]
    return _Style(heading_level=level, is_list=is_list)


def _heading_level(style: Element) -> int:
    name = _val(style.find(qn("w:name"))) or ""
    match = _HEADING_NAME.match(name)
    if match:
        return max(1, min(int(match[1]), 6))
    if name.lower() == "title":
        return 1
    return _outline_level(style.find(qn("w:pPr")))


def _outline_level(properties: Element | None) -> int:
    """``w:outlineLvl`` 0 to 5 makes a heading of level 1 to 6; 9 is body text."""
    level = _val(properties.find(qn("w:outlineLvl"))) if properties is not None else None
    return int(level) + 1 if level is not None and level.isdigit() and int(level) < 6 else 0


def _has_numbering(properties: Element | None) -> bool:
    numbering = properties.find(qn("w:numPr")) if properties is not None else None
    if numbering is None:
        return False
    return _val(numbering.find(qn("w:numId"))) != "0"


def _val(element: Element | None) -> str | None:
    return None if element is None else element.get(qn("w:val"))


def _blocks(container: Element, styles: Mapping[str, _Style], part: Any) -> Iterator[_Block]:
    """The paragraphs (and the charts drawn in them) and tables of a body or content control, in order."""
    for child in container:
        if child.tag == qn("w:p"):
            block = _paragraph(child, styles)
            if block is not None:
                yield block
            yield from _charts(child, part)
        elif child.tag == qn("w:tbl"):
            yield _table(child)
        elif child.tag in (qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")):
            yield from _blocks(child, styles, part)


def _charts(paragraph: Element, part: Any) -> Iterator[_Block]:
    """The title and cached data of each chart anchored in ``paragraph``."""
    for reference in paragraph.iter(_CHART):
        related = part.rels.get(reference.get(R_ID, ""))
        root = None if related is None or related.is_external else parse_xml(related.target_part.blob)
        if root is not None:
            chart = read_chart(root)
            yield _Block(markdown=chart.markdown(), text=chart.text())


def _paragraph(paragraph: Element, styles: Mapping[str, _Style]) -> _Block | None:
    equations: list[str] = []
    text = " ".join(_element_text(paragraph, equations).split())
    if not text:
        return None
    if equations and _only_equations(text, equations):
        display = "\n\n".join(f"$${latex}$$" for latex in equations)
        return _Block(markdown=display, text=display)
    properties = paragraph.find(qn("w:pPr"))
    style = styles.get(_val(properties.find(qn("w:pStyle"))) or "", _Style(0, False)) \
        if properties is not None else _Style(0, False)
    level = _outline_level(properties) or style.heading_level
    if level:
        return _Block(markdown=f"{'#' * level} {text}", text=text)
    if _has_numbering(properties) or style.is_list:
        return _Block(markdown=f"{'  ' * _list_depth(properties)}- {text}", text=text)
    return _Block(markdown=text, text=text)


def _list_depth(properties: Element | None) -> int:
    numbering = properties.find(qn("w:numPr")) if properties is not None else None
    depth = _val(numbering.find(qn("w:ilvl"))) if numbering is not None else None
    return int(depth) if depth is not None and depth.isdigit() else 0


def _element_text(root: Element, equations: list[str] | None = None) -> str:
    """All text under ``root`` in document order: runs, tabs, breaks, equations (as ``$LaTeX$``, also
    appended to ``equations``); never a fallback copy."""
    parts: list[str] = []
    stack = [root]
    while stack:
        element = stack.pop()
        if element.tag == _FALLBACK:
            continue
        if element.tag == _MATH:
            latex = to_latex(element)
            if equations is not None and latex:
                equations.append(latex)
            parts.append(f" ${latex}$ " if latex else "")
            continue
        parts.append(_own_text(element))
        stack.extend(reversed(element))
    return "".join(parts)


def _only_equations(text: str, equations: list[str]) -> bool:
    for latex in equations:
        text = text.replace(f"${' '.join(latex.split())}$", "", 1)
    return not text.strip()


def _own_text(element: Element) -> str:
    tag = element.tag
    if tag == qn("w:t"):
        return str(element.text or "")
    if tag in (qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:p")):
        return " "
    if tag == qn("w:noBreakHyphen"):
        return "-"
    return ""


def _table(table: Element) -> _Block:
    rows = _table_rows(table)
    markdown = markdown_table(rows)
    text = "\n".join("\t".join(row) for row in rows)
    return _Block(markdown=markdown, text=text)


def _table_rows(table: Element) -> list[list[str]]:
    """Cell texts per row; a merged cell's text is repeated in every grid cell it covers."""
    rows: list[list[str]] = []
    above: dict[int, str] = {}  # text of the cell that starts a vertical merge, by grid column
    for row in table.iter(qn("w:tr")):
        if _parent_table(row) is not table:
            continue
        cells: list[str] = []
        for cell in row.iter(qn("w:tc")):
            if _parent_table(cell) is table:
                _append_cell(cells, cell, above)
        rows.append(cells)
    return rows


def _append_cell(cells: list[str], cell: Element, above: dict[int, str]) -> None:
    properties = cell.find(qn("w:tcPr"))
    span = _int_val(properties, "w:gridSpan", default=1)
    merge = properties.find(qn("w:vMerge")) if properties is not None else None
    column = len(cells)
    if merge is not None and _val(merge) != "restart":
        text = above.get(column, "")
    else:
        text = " ".join(_element_text(cell).split())
    above[column] = text
    cells.extend([text] * max(1, min(span, 64)))


def _int_val(properties: Element | None, tag: str, default: int) -> int:
    value = _val(properties.find(qn(tag))) if properties is not None else None
    return int(value) if value is not None and value.isdigit() else default


def _parent_table(element: Element) -> Element | None:
    parent = element.getparent()
    while parent is not None and parent.tag != qn("w:tbl"):
        parent = parent.getparent()
    return parent
