"""HTML files: the main content as markdown (markdownify), without scripts, styles and navigation.

markdownify walks the tree recursively; a deeply nested page (10,000 levels, say) exceeds the recursion
limit, and then the page's plain text, gathered by an iterative walk, stands in for the markdown.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, PreformattedString
from markdownify import MarkdownConverter

from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.html_tables import normalize_tables
from conveyor.processors.parse.markdown import strip_markdown

_DROPPED_TAGS = ("script", "style", "nav", "noscript", "template", "iframe", "object", "embed")
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "ol", "p", "pre", "section", "summary", "table", "tr", "td", "th", "ul",
})


def parse_html(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    root = main_content(read_soup(path.read_bytes()))
    normalize_tables(root)
    try:
        markdown = _tidy(_converter().convert_soup(root))
    except RecursionError:
        text = plain_text(root)
        return ParsedDocument.single_page(markdown=text, text=text)
    return ParsedDocument.single_page(markdown=markdown, text=strip_markdown(markdown))


def read_soup(data: bytes) -> BeautifulSoup:
    """Parse HTML bytes (encoding from BOM, ``<meta charset>`` or guessing) with the stdlib parser."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like XML, a URL or a file name
        return BeautifulSoup(data, "html.parser")


def main_content(soup: BeautifulSoup) -> Tag:
    """The ``<main>`` (or only ``<article>``, or ``<body>``) element, with non-content elements removed."""
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    articles = soup.find_all("article", limit=2)
    candidates = (soup.find("main"), articles[0] if len(articles) == 1 else None, soup.body)
    return next((tag for tag in candidates if isinstance(tag, Tag)), soup)


def _converter() -> MarkdownConverter:
    return MarkdownConverter(heading_style="ATX", bullets="-", table_infer_header=True,
                             escape_misc=False)


def plain_text(root: Tag) -> str:
    """The visible text under ``root``, one line per block element; walks the tree without recursion."""
    parts: list[str] = []
    for node in root.descendants:
        if isinstance(node, Tag) and node.name in _BLOCK_TAGS:
            parts.append("\n")
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(str(node))
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def _tidy(markdown: str) -> str:
    lines = (line.rstrip() for line in markdown.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
