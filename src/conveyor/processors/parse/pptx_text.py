"""Slide text: the paragraphs of a shape's text body as markdown paragraphs and (nested, numbered) lists.

Whether a paragraph is a list item is inherited in PowerPoint: the paragraph's own properties decide
first, then the shape's list style, then the matching placeholder on the layout and on the master, then
the master's body text style. The first of them that says bullet, number or none wins, level by level.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from conveyor.processors.parse.ooxml import Element, local_name, text_of

_BULLETS = {"buNone": "", "buChar": "-", "buBlip": "-", "buAutoNum": "1."}
_MAX_LEVEL = 8


@dataclass(frozen=True)
class Block:
    """One markdown block of a slide and its plain text."""

    markdown: str
    text: str


@dataclass(frozen=True)
class _Paragraph:
    text: str
    level: int
    marker: str  # "" (not a list item), "-" or "1."
    start: int  # the first number of a numbered list


def text_blocks(body: Element, styles: Sequence[Element], heading: bool) -> list[Block]:
    """The blocks of a text body (``p:txBody``); ``styles`` are the list styles it inherits, nearest first.

    A heading (a title placeholder) is all its paragraphs on one ``#`` line.
    """
    paragraphs = [paragraph for paragraph in _paragraphs(body, styles) if paragraph.text]
    if heading:
        text = " ".join(paragraph.text for paragraph in paragraphs)
        return [Block(markdown=f"# {text}", text=text)] if text else []
    return list(_blocks(paragraphs))


def paragraph_text(paragraph: Element) -> str:
    """The text of an ``a:p``: runs and fields, line breaks as spaces, whitespace collapsed."""
    parts: list[str] = []
    for child in paragraph:
        name = local_name(child)
        if name in ("r", "fld"):
            parts.append(text_of(child))
        elif name == "br":
            parts.append(" ")
    return " ".join("".join(parts).split())


def _paragraphs(body: Element, styles: Sequence[Element]) -> Iterator[_Paragraph]:
    for paragraph in body:
        if local_name(paragraph) != "p":
            continue
        properties = _child(paragraph, "pPr")
        level = _level(properties)
        marker, start = _bullet([properties, *(_child(style, f"lvl{level + 1}pPr") for style in styles)])
        yield _Paragraph(text=paragraph_text(paragraph), level=level, marker=marker, start=start)


def _child(element: Element | None, name: str) -> Element | None:
    return None if element is None else next((child for child in element if local_name(child) == name), None)


def _level(properties: Element | None) -> int:
    value = "" if properties is None else properties.get("lvl", "")
    return min(int(value), _MAX_LEVEL) if value.isdigit() else 0


def _bullet(candidates: Sequence[Element | None]) -> tuple[str, int]:
    """The list marker the first deciding paragraph properties give, and the numbering's start."""
    for properties in candidates:
        for child in () if properties is None else properties:
            marker = _BULLETS.get(local_name(child))
            if marker is not None:
                start = child.get("startAt", "1")
                return marker, int(start) if start.isdigit() else 1
    return "", 1


def _blocks(paragraphs: Sequence[_Paragraph]) -> Iterator[Block]:
    """Plain paragraphs one block each; a run of list items one block."""
    items: list[_Paragraph] = []
    for paragraph in paragraphs:
        if paragraph.marker:
            items.append(paragraph)
            continue
        if items:
            yield _list_block(items)
            items = []
        yield Block(markdown=paragraph.text, text=paragraph.text)
    if items:
        yield _list_block(items)


def _list_block(items: Sequence[_Paragraph]) -> Block:
    return Block(markdown="\n".join(_list_lines(items)), text="\n".join(item.text for item in items))


def _list_lines(items: Sequence[_Paragraph]) -> Iterator[str]:
    """Markdown list lines; a child is indented to its parent's content, a level never skipped."""
    offsets: list[int] = []  # the content column of the open item at each depth
    numbers: dict[int, int] = {}  # the last number used at each depth of a numbered list
    for item in items:
        depth = min(item.level, len(offsets))
        del offsets[depth:]
        for deeper in [key for key in numbers if key > depth]:
            del numbers[deeper]
        marker = _marker(item, depth, numbers)
        indent = offsets[-1] if offsets else 0
        offsets.append(indent + len(marker) + 1)
        yield f"{' ' * indent}{marker} {item.text}"


def _marker(item: _Paragraph, depth: int, numbers: dict[int, int]) -> str:
    if item.marker == "-":
        numbers.pop(depth, None)
        return "-"
    numbers[depth] = numbers.get(depth, item.start - 1) + 1
    return f"{numbers[depth]}."
