"""Office Open XML packages read as plain zip files: parts, their relationships, and safe XML parsing.

The office libraries load what they model; the side parts they leave out (charts in a workbook, comments,
comment authors) are read here. Parts are parsed whole, so each is capped in size, and the parser never
resolves entities or fetches anything.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

Element = Any  # an lxml element (lxml ships no type hints)

MAX_PART_SIZE = 32 * 1024 * 1024
"""Side parts larger than this (uncompressed) are ignored rather than parsed."""

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def parse_xml(data: bytes) -> Element | None:
    """The root element of ``data``, or ``None`` if it is not well-formed XML."""
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None


def local_name(element: Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def descendants(element: Element, name: str) -> Iterator[Element]:
    """The elements under ``element`` (itself included) whose local name is ``name``, in document order."""
    return (node for node in element.iter() if local_name(node) == name)


def text_of(element: Element, name: str = "t") -> str:
    """The concatenated text of the ``name`` elements under ``element`` (``a:t`` runs by default)."""
    return "".join(node.text or "" for node in descendants(element, name))


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str  # a part name inside the package (no leading slash), or a URL if external
    external: bool


class Package:
    """Read access to the parts of an OOXML zip package."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self._sizes = {info.filename: info.file_size for info in archive.infolist()}

    def has(self, part: str) -> bool:
        return part in self._sizes

    def size(self, part: str) -> int:
        return self._sizes.get(part, 0)

    def xml(self, part: str) -> Element | None:
        """The root element of ``part``; ``None`` if it is missing, too large or not XML."""
        if not 0 < self.size(part) <= MAX_PART_SIZE:
            return None
        return parse_xml(self._archive.read(part))

    def relationships(self, part: str) -> list[Relationship]:
        """The relationships of ``part`` (from ``_rels/NAME.rels`` beside it), in file order."""
        folder, name = posixpath.split(part)
        root = self.xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        if root is None:
            return []
        return [_relationship(folder, element) for element in root.iter(_RELATIONSHIPS)]

    def related(self, part: str, type_suffix: str) -> list[Relationship]:
        """The internal relationships of ``part`` whose type ends with ``type_suffix`` (``"/chart"``)."""
        return [rel for rel in self.relationships(part) if not rel.external and rel.type.endswith(type_suffix)]


def _relationship(folder: str, element: Element) -> Relationship:
    target = element.get("Target") or ""
    external = element.get("TargetMode") == "External"
    if not external:
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
    return Relationship(id=element.get("Id") or "", type=element.get("Type") or "", target=target, external=external)
