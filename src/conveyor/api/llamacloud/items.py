"""A page's markdown as LlamaCloud's structured items: headings, text, lists, tables and code blocks.

The parse processor writes markdown; this reads its blocks back (no layout boxes: Conveyor does not
keep item positions).
"""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")


def plain(md: str) -> str:
    """Markdown inline markup removed: the text a reader sees."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", md)
    return _EMPHASIS.sub(r"\2", text).strip()


def blocks(markdown: str) -> list[list[str]]:
    """Blank-line separated blocks; a fenced code block stays whole."""
    found: list[list[str]] = []
    current: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                found.append(current)
            current = []
            continue
        current.append(line)
    if current:
        found.append(current)
    return found


def items(markdown: str) -> list[dict[str, Any]]:
    return [_item(block) for block in blocks(markdown)]


def _item(lines: list[str]) -> dict[str, Any]:
    md = "\n".join(lines)
    heading = _HEADING.match(lines[0])
    if len(lines) == 1 and heading:
        return {"type": "heading", "level": len(heading.group(1)), "md": md, "value": plain(heading.group(2))}
    if lines[0].strip().startswith("```"):
        body = lines[1:-1] if lines[-1].strip().startswith("```") and len(lines) > 1 else lines[1:]
        language = lines[0].strip().strip("`").strip() or None
        return {"type": "code", "md": md, "value": "\n".join(body), "language": language}
    if all(line.lstrip().startswith("|") for line in lines):
        return _table(lines, md)
    bullets = [m for m in (_BULLET.match(line) for line in lines) if m is not None]
    if len(bullets) == len(lines):
        entries = [{"type": "text", "md": line.strip(), "value": plain(m.group(2))}
                   for line, m in zip(lines, bullets, strict=True)]
        return {"type": "list", "ordered": bool(bullets[0].group(1)), "md": md, "items": entries}
    return {"type": "text", "md": md, "value": plain(" ".join(line.strip() for line in lines))}


def _table(lines: list[str], md: str) -> dict[str, Any]:
    rows = [_cells(line) for line in lines if not _SEPARATOR.match(line.strip())]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return {"type": "table", "md": md, "rows": rows, "csv": buffer.getvalue(), "html": f"<table>{body}</table>"}


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]
