"""Slide comments, classic (``p:cmLst``) and modern threaded (``p188:cmLst``), with author names and dates.

python-pptx does not model comments; their parts are read through the slide's relationships, and the
authors through the presentation's (``commentAuthors.xml`` or ``authors.xml``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.processors.parse.ooxml import Element, descendants, local_name, parse_xml
from conveyor.processors.parse.pptx_text import paragraph_text

Part = Any  # a python-pptx package part (untyped)


def comment_authors(presentation_part: Part) -> dict[str, str]:
    """Author names by author id, from the presentation's comment-author parts."""
    authors: dict[str, str] = {}
    for root in _related_xml(presentation_part, ("/commentAuthors", "/authors")):
        for author in root.iter():
            if local_name(author) in ("cmAuthor", "author") and author.get("id") is not None:
                authors[author.get("id")] = author.get("name") or ""
    return authors


def slide_comments(slide_part: Part, authors: dict[str, str]) -> list[str]:
    """One ``Author (date): text`` line per comment and reply on the slide, in file order."""
    lines: list[str] = []
    for root in _related_xml(slide_part, ("/comments",)):
        lines.extend(_comment_line(comment, authors) for comment in root.iter()
                     if local_name(comment) in ("cm", "reply") and _comment_text(comment))
    return lines


def _related_xml(part: Part, type_suffixes: tuple[str, ...]) -> Iterator[Element]:
    for relationship in part.rels.values():
        if not relationship.is_external and relationship.reltype.endswith(type_suffixes):
            root = parse_xml(relationship.target_part.blob)
            if root is not None:
                yield root


def _comment_text(comment: Element) -> str:
    """A classic comment's ``p:text``, or a modern one's own text body (not its replies')."""
    for child in comment:
        if local_name(child) == "text":
            return " ".join((child.text or "").split())
        if local_name(child) == "txBody":
            return " ".join(filter(None, (paragraph_text(p) for p in descendants(child, "p"))))
    return ""


def _comment_line(comment: Element, authors: dict[str, str]) -> str:
    author = authors.get(comment.get("authorId", ""), "")
    date = comment.get("dt") or comment.get("created") or ""
    who = f"{author} ({date})" if author and date else author or date
    return f"{who}: {_comment_text(comment)}" if who else _comment_text(comment)
