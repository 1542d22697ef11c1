"""The parse options: OCR mode, page ranges and output formats, checked up front."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.errors import PermanentError
from conveyor.processors.parse.options import FORMATS, parse_options


def test_defaults() -> None:
    options = parse_options({})
    assert (options.ocr, options.formats, options.password) == ("auto", FORMATS, None)
    assert options.page_numbers(3) == [1, 2, 3]


@pytest.mark.parametrize(("pages", "count", "numbers"), [
    ("1-3,5", 9, [1, 2, 3, 5]), (" 2 - 4 , 1 ", 9, [1, 2, 3, 4]), ("7-", 9, [7, 8, 9]), ("5,5,4", 9, [4, 5]),
    ("2-100", 3, [2, 3]), ("3", 9, [3]), (4, 9, [4]),
])
def test_page_ranges(pages: Any, count: int, numbers: list[int]) -> None:
    assert parse_options({"pages": pages}).page_numbers(count) == numbers


@pytest.mark.parametrize("pages", ["", "abc", "1-2-3", "0", "0-2", "4-2", "1,,2", "-3", "1.5", [1, 2], True])
def test_bad_page_ranges(pages: Any) -> None:
    with pytest.raises(PermanentError, match="option 'pages'"):
        parse_options({"pages": pages})


def test_a_range_past_the_end_selects_nothing() -> None:
    with pytest.raises(PermanentError, match="selects no page: the document has 2 page"):
        parse_options({"pages": "3-"}).page_numbers(2)


@pytest.mark.parametrize("mode", ["auto", "off", "force"])
def test_ocr_modes(mode: str) -> None:
    assert parse_options({"ocr": mode}).ocr == mode


@pytest.mark.parametrize("mode", ["on", "", True, 1, "FORCE"])
def test_bad_ocr_modes(mode: Any) -> None:
    with pytest.raises(PermanentError, match="option 'ocr' must be one of auto, off, force"):
        parse_options({"ocr": mode})


@pytest.mark.parametrize(("formats", "expected"), [
    (["pages", "markdown"], ("markdown", "pages")), ("text", ("text",)), (["text", "text"], ("text",)),
])
def test_formats(formats: Any, expected: tuple[str, ...]) -> None:
    assert parse_options({"formats": formats}).formats == expected


@pytest.mark.parametrize("formats", [[], ["html"], ["markdown", "json"], 3, {"markdown": True}])
def test_bad_formats(formats: Any) -> None:
    with pytest.raises(PermanentError, match="option 'formats' must be a non-empty list of markdown, text, pages"):
        parse_options({"formats": formats})
