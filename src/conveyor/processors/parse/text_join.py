"""Joining the lines of a paragraph back into running text, re-joining words hyphenated at a break."""

from __future__ import annotations

from collections.abc import Iterable

SOFT_HYPHENS = "\xad\x02"


def join_lines(lines: Iterable[str]) -> str:
    """The lines joined by spaces, except where a word was hyphenated across the break.

    A soft hyphen (U+00AD, or PDFium's U+0002) at the end of a line always joins; a hard hyphen between
    a letter and a lowercase continuation does too. A soft hyphen left over elsewhere shows as a hyphen.
    """
    parts: list[str] = []
    for line in lines:
        text = line.strip()
        if parts:
            parts[-1], separator = _line_break(parts[-1], text)
            parts.append(separator)
        parts.append(text)
    return "".join(parts).replace("\x02", "").replace("\xad", "-")


def _line_break(head: str, tail: str) -> tuple[str, str]:
    """A line without its trailing break hyphen, and what joins it to the next line."""
    head = head.rstrip()
    if head.endswith(tuple(SOFT_HYPHENS)):
        return head[:-1], ""
    if len(head) >= 2 and head[-1] == "-" and head[-2].isalpha() and tail[:1].islower():
        return head[:-1], ""
    return head, " " if head and tail else ""
