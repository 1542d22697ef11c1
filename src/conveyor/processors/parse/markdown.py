"""Markdown files pass through; their plain text is the markdown with its syntax stripped."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.text import decode_text

_ESCAPABLE = "\\`*_{}[]()#+-.!|<>~"
_ESCAPE = re.compile(r"\\([" + re.escape(_ESCAPABLE) + r"])")
_PLACEHOLDER_BASE = 0xE000  # private-use code points stand in for escaped characters while stripping
_DROPPED_LINE = re.compile(r"(?:```|~~~).*|[\s:|]*-[\s:|-]*|(?:[*_]\s*){3,}|=+")  # fences, rules, table rules
_LINE_PREFIX = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+|(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?)?")
# Bounded repeats keep every pattern linear in the line length, whatever the input.
_INLINE = (
    (re.compile(r"!\[([^\]]{0,500})\]\([^)]{0,2000}\)"), r"\1"),
    (re.compile(r"\[([^\]]{0,500})\]\([^)]{0,2000}\)"), r"\1"),
    (re.compile(r"\[([^\]]{0,500})\]\[[^\]]{0,500}\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]{1,2000})>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>\n]{0,500}>"), " "),
    (re.compile(r"`+"), ""),
    (re.compile(r"\*\*|__|~~"), ""),
    (re.compile(r"(?<!\w)[*_]|[*_](?!\w)"), ""),
    (re.compile(r"\|"), " "),
)


def strip_markdown(markdown: str) -> str:
    """The text of a markdown document without its syntax (headings, emphasis, links, tables …)."""
    protected = _ESCAPE.sub(lambda m: chr(_PLACEHOLDER_BASE + _ESCAPABLE.index(m[1])), markdown)
    lines = (_strip_line(line) for line in protected.splitlines() if not _DROPPED_LINE.fullmatch(line.strip()))
    text = "\n".join(lines)
    for index, char in enumerate(_ESCAPABLE):
        text = text.replace(chr(_PLACEHOLDER_BASE + index), char)
    return html.unescape(re.sub(r"\n{3,}", "\n\n", text)).strip()


def _strip_line(line: str) -> str:
    prefix = _LINE_PREFIX.match(line)
    if prefix:
        line = line[prefix.end():]
        if "#" in prefix.group():  # an ATX heading may end in a closing run of hashes
            line = _without_closing_hashes(line)
    for pattern, replacement in _INLINE:
        line = pattern.sub(replacement, line)
    return re.sub(r"[ \t]{2,}", " ", line).strip()


def _without_closing_hashes(line: str) -> str:
    stripped = line.rstrip()
    bare = stripped.rstrip("#")
    return bare.rstrip() if bare != stripped and (not bare or bare[-1].isspace()) else line


def parse_markdown(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    markdown = decode_text(path.read_bytes()).strip("\n")
    return ParsedDocument.single_page(markdown=markdown, text=strip_markdown(markdown))
