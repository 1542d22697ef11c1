"""PPTX files (python-pptx): one page per slide, its shapes in reading order.

A title placeholder becomes a ``#`` heading; text bodies become paragraphs and nested lists; tables become
markdown tables (a merged cell's text in every cell it covers); charts their title and cached data;
SmartArt its node texts; group shapes are walked; pictures are skipped. Speaker notes follow under a
``Notes:`` line and comments under ``Comments:``. Shapes are read at the XML level, so a shape python-pptx
does not recognise still gives its text, and a placeholder inherits its position and list styles from
the layout and master.

Reading order is by rows: shapes sorted by top, a shape whose top lies within the upper half of the
first shape of the current row joins that row, and each row is read left to right.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pptx
from pptx.exc import PackageNotFoundError

from conveyor.errors import PermanentError
from conveyor.processors.parse.charts import read_chart
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.ooxml import R_ID, Element, descendants, local_name, parse_xml
from conveyor.processors.parse.pptx_comments import comment_authors, slide_comments
from conveyor.processors.parse.pptx_text import Block, paragraph_text, text_blocks
from conveyor.processors.parse.tables import markdown_table

Slide = Any  # python-pptx objects (untyped)
Position = tuple[int, int, int]  # top, left, height in EMU

_SHAPES = frozenset({"sp", "grpSp", "graphicFrame", "pic", "cxnSp", "contentPart"})
_TITLES = frozenset({"title", "ctrTitle"})
_MASTER_KIND = {"ctrTitle": "title", "subTitle": "body", "obj": "body", "chart": "body", "tbl": "body",
                "clipArt": "body", "dgm": "body", "media": "body", "pic": "body"}
_R_DM = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}dm"
_DIAGRAM_NODES = frozenset({"node", "asst"})


@dataclass(frozen=True)
class _Inherited:
    kind: str  # the placeholder's type as the master knows it ("title", "body", "dt" …); "" if none
    bases: tuple[Element, ...]  # the matching placeholder shapes of the layout and the master


def parse_pptx(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    presentation = _open(path)
    authors = comment_authors(presentation.part)
    slides = [_slide_blocks(slide, authors) for slide in presentation.slides]
    if not slides:
        raise PermanentError("PPTX file has no slides")
    texts = ["\n\n".join(block.text for block in blocks) for blocks in slides]
    markdown = ["\n\n".join([f"<!-- Slide {number} -->", *(block.markdown for block in blocks)])
                for number, blocks in enumerate(slides, start=1)]
    return ParsedDocument(markdown="\n\n".join(markdown), text="\n\n".join(text for text in texts if text),
                          pages=[{"page": number, "text": text, "markdown": md}
                                 for number, (text, md) in enumerate(zip(texts, markdown, strict=True), start=1)])


def _open(path: Path) -> Any:
    try:
        return pptx.Presentation(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile) as e:
        raise PermanentError("not a valid PPTX file: not a ZIP package") from e


def _slide_blocks(slide: Slide, authors: dict[str, str]) -> list[Block]:
    tree = next(descendants(slide.element, "spTree"), None)
    blocks = [] if tree is None else list(_shapes(tree, _Context(slide)))
    return [*blocks, *_notes(slide), *_comments(slide, authors)]


class _Context:
    """A slide's part (for relationships) and the placeholders of its layout and master."""

    def __init__(self, slide: Slide) -> None:
        self.part = slide.part
        layout = _layout(slide)
        master = None if layout is None else layout.slide_master
        self._layout = {} if layout is None else _placeholders(layout.element)
        self._master = {} if master is None else _placeholders(master.element)
        styles = None if master is None else next(descendants(master.element, "txStyles"), None)
        self.body_style = None if styles is None else _child(styles, "bodyStyle")

    def inherited(self, shape: Element) -> _Inherited:
        placeholder = _placeholder(shape)
        if placeholder is None:
            return _Inherited(kind="", bases=())
        kind, index = placeholder
        in_layout = self._layout.get(f"idx:{index}" if index else f"type:{kind}")
        layout_kind = kind if in_layout is None else (_placeholder(in_layout) or (kind, ""))[0]
        master_kind = _MASTER_KIND.get(layout_kind, layout_kind)
        in_master = self._master.get(f"type:{master_kind}")
        return _Inherited(kind=master_kind, bases=tuple(base for base in (in_layout, in_master) if base is not None))


def _layout(slide: Slide) -> Any:
    try:
        return slide.slide_layout
    except KeyError:  # a slide without a layout relationship
        return None


def _placeholders(root: Element) -> dict[str, Element]:
    """The placeholder shapes of a layout or master, by ``idx:N`` (if it has an index) and ``type:T``."""
    found: dict[str, Element] = {}
    for shape in descendants(root, "sp"):
        placeholder = _placeholder(shape)
        if placeholder is not None:
            kind, index = placeholder
            for key in (f"idx:{index}" if index else "", f"type:{kind}"):
                if key:
                    found.setdefault(key, shape)
    return found


def _placeholder(shape: Element) -> tuple[str, str] | None:
    """``(type, idx)`` of a placeholder shape (``idx`` "" when it has none), ``None`` for other shapes."""
    properties = next((child for child in shape if local_name(child).startswith("nv")), None)
    placeholder = _child(_child(properties, "nvPr"), "ph")
    if placeholder is None:
        return None
    return placeholder.get("type", "obj"), placeholder.get("idx", "")


def _child(element: Element | None, name: str) -> Element | None:
    return None if element is None else next((child for child in element if local_name(child) == name), None)


def _shapes(container: Element, context: _Context) -> Iterator[Block]:
    shapes = list(_children(container))
    positions = [_position(shape, context.inherited(shape).bases) for shape in shapes]
    for shape in reading_order(shapes, positions):
        yield from _shape(shape, context)


def _children(container: Element) -> Iterator[Element]:
    """The shapes directly in a shape tree or group; of alternate content, the first choice's."""
    for child in container:
        name = local_name(child)
        if name in _SHAPES:
            yield child
        elif name == "AlternateContent" and len(child):
            yield from _children(child[0])


def _position(shape: Element, bases: Sequence[Element]) -> Position | None:
    for element in (shape, *bases):
        transform = next((_child(child, "xfrm") if local_name(child) in ("spPr", "grpSpPr") else child
                          for child in element if local_name(child) in ("spPr", "grpSpPr", "xfrm")), None)
        offset, extent = _child(transform, "off"), _child(transform, "ext")
        if offset is not None:
            return _emu(offset, "y"), _emu(offset, "x"), 0 if extent is None else _emu(extent, "cy")
    return None


def _emu(element: Element, attribute: str) -> int:
    value = element.get(attribute, "0")
    return int(value) if value.lstrip("-").isdigit() else 0


def reading_order(shapes: Sequence[Element], positions: Sequence[Position | None]) -> list[Element]:
    """``shapes`` in rows top to bottom, each row left to right; a shape without a position stays after
    the shape before it."""
    placed: list[tuple[Position, int]] = []
    last: Position = (0, 0, 0)
    for index, position in enumerate(positions):
        last = position or last
        placed.append((last, index))
    placed.sort(key=lambda item: (item[0][0], item[1]))
    rows: list[list[tuple[Position, int]]] = []
    for item in placed:
        if rows and item[0][0] <= rows[-1][0][0][0] + rows[-1][0][0][2] // 2:
            rows[-1].append(item)
        else:
            rows.append([item])
    return [shapes[index] for row in rows for _, index in sorted(row, key=lambda item: (item[0][1], item[1]))]


def _shape(shape: Element, context: _Context) -> Iterator[Block]:
    name = local_name(shape)
    if name == "sp":
        yield from _text_shape(shape, context)
    elif name == "grpSp":
        yield from _shapes(shape, context)
    elif name == "graphicFrame":
        block = _graphic_frame(shape, context)
        if block is not None:
            yield block


def _text_shape(shape: Element, context: _Context) -> list[Block]:
    body = _child(shape, "txBody")
    if body is None:
        return []
    inherited = context.inherited(shape)
    styles = [_child(element, "txBody") for element in (shape, *inherited.bases)]
    list_styles = [_child(body, "lstStyle") for body in styles if body is not None]
    if inherited.kind == "body" and context.body_style is not None:
        list_styles.append(context.body_style)
    return text_blocks(body, [style for style in list_styles if style is not None], inherited.kind == "title")


def _graphic_frame(frame: Element, context: _Context) -> Block | None:
    data = next(descendants(frame, "graphicData"), None)
    uri = "" if data is None else data.get("uri", "")
    if uri.endswith("/table"):
        table = next(descendants(data, "tbl"), None)
        return None if table is None else _table(table)
    if uri.endswith("/chart"):
        return _chart(data, context)
    if uri.endswith("/diagram"):
        return _diagram(data, context)
    return None


def _table(table: Element) -> Block:
    rows: list[list[str]] = []
    for row in (child for child in table if local_name(child) == "tr"):
        cells: list[str] = []
        for column, cell in enumerate(child for child in row if local_name(child) == "tc"):
            cells.append(_cell_text(cell, cells, rows[-1] if rows else [], column))
        rows.append(cells)
    return Block(markdown=markdown_table(rows), text="\n".join("\t".join(row) for row in rows))


def _cell_text(cell: Element, left: Sequence[str], above: Sequence[str], column: int) -> str:
    """A cell's text; a cell merged into the one to its left or above repeats that one's text."""
    if cell.get("hMerge") in ("1", "true") and left:
        return left[-1]
    if cell.get("vMerge") in ("1", "true") and column < len(above):
        return above[column]
    return " ".join(filter(None, (paragraph_text(paragraph) for paragraph in descendants(cell, "p"))))


def _related_xml(context: _Context, relationship_id: str | None) -> Element | None:
    if not relationship_id:
        return None
    try:
        return parse_xml(context.part.related_part(relationship_id).blob)
    except KeyError:  # a dangling relationship
        return None


def _chart(data: Element, context: _Context) -> Block | None:
    reference = next(descendants(data, "chart"), None)
    root = _related_xml(context, None if reference is None else reference.get(R_ID))
    if root is None:
        return None
    chart = read_chart(root)
    return Block(markdown=chart.markdown(), text=chart.text())


def _diagram(data: Element, context: _Context) -> Block | None:
    """SmartArt: the text of each node of the diagram's data model, as a list."""
    references = next(descendants(data, "relIds"), None)
    root = _related_xml(context, None if references is None else references.get(_R_DM))
    if root is None:
        return None
    texts = [" ".join(filter(None, (paragraph_text(p) for p in descendants(point, "p"))))
             for point in descendants(root, "pt") if point.get("type", "node") in _DIAGRAM_NODES]
    texts = [text for text in texts if text]
    if not texts:
        return None
    return Block(markdown="\n".join(f"- {text}" for text in texts), text="\n".join(texts))


def _notes(slide: Slide) -> list[Block]:
    if not slide.has_notes_slide:
        return []
    placeholder = slide.notes_slide.notes_placeholder
    body = None if placeholder is None else _child(placeholder.element, "txBody")
    blocks = [] if body is None else text_blocks(body, [], heading=False)
    return [Block(markdown="Notes:", text="Notes:"), *blocks] if blocks else []


def _comments(slide: Slide, authors: dict[str, str]) -> list[Block]:
    lines = slide_comments(slide.part, authors)
    if not lines:
        return []
    return [Block(markdown="\n\n".join(["Comments:", "\n".join(f"- {line}" for line in lines)]),
                  text="\n".join(["Comments:", *lines]))]
