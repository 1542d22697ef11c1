"""Charts (DrawingML ``c:chartSpace`` parts, in decks and workbooks): a caption and a table of their data.

A chart part caches what it draws: per series a name, category labels and values. That cache is what is
rendered, one row per category and one column per series, so no embedded workbook is opened. Charts
written without a cache (by some libraries) name only their cell references (``Sheet1!$B$2:$B$5``); a
workbook can pass a resolver that reads those from its cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from conveyor.processors.parse.ooxml import Element, descendants, local_name, text_of
from conveyor.processors.parse.tables import markdown_table

MAX_CHART_ROWS = 1_000

Resolver = Callable[[str], list[str]]
"""The texts of the cells a reference such as ``'Sheet 1'!$A$2:$A$5`` names, in order."""


@dataclass(frozen=True)
class Chart:
    title: str
    rows: list[list[str]]  # the header row (an empty corner, then series names) first; empty without data

    @property
    def caption(self) -> str:
        return f"Chart: {self.title}" if self.title else "Chart"

    def markdown(self) -> str:
        return "\n\n".join(part for part in (self.caption, markdown_table(self.rows)) if part)

    def text(self) -> str:
        return "\n".join([self.caption, *("\t".join(row) for row in self.rows)])


@dataclass(frozen=True)
class _Series:
    name: str
    categories: dict[int, str]
    values: dict[int, str]


def read_chart(chart_space: Element, resolve: Resolver | None = None) -> Chart:
    """The title and data of the chart whose part root is ``chart_space``: cached, else ``resolve``d."""
    chart = _child(chart_space, "chart")
    if chart is None:
        return Chart(title="", rows=[])
    plot_area = _child(chart, "plotArea")
    series = [] if plot_area is None else [_series(element, resolve) for element in descendants(plot_area, "ser")]
    return Chart(title=_text(_child(chart, "title")), rows=_rows(series))


def _child(element: Element | None, *names: str) -> Element | None:
    """The first child of ``element`` named one of ``names`` (the earlier name preferred)."""
    if element is None:
        return None
    children = {local_name(child): child for child in reversed(element)}
    return next((children[name] for name in names if name in children), None)


def _text(element: Element | None) -> str:
    """Rich text (``a:t`` runs) or a cached string reference (``c:v``), whitespace collapsed."""
    if element is None:
        return ""
    return " ".join((text_of(element) or text_of(element, "v")).split())


def _series(series: Element, resolve: Resolver | None) -> _Series:
    name = _child(series, "tx")
    return _Series(
        name=_text(name) or " ".join(_referenced(name, resolve).values()),
        categories=_points(_child(series, "cat", "xVal"), resolve),
        values=_points(_child(series, "val", "yVal"), resolve),
    )


def _referenced(data: Element | None, resolve: Resolver | None) -> dict[int, str]:
    """The texts of the cells ``data``'s formula (``c:f``) refers to, by index."""
    formula = None if data is None or resolve is None else next(descendants(data, "f"), None)
    if formula is None or resolve is None or not formula.text:
        return {}
    return dict(enumerate(resolve(formula.text.strip())[:MAX_CHART_ROWS]))


def _points(data: Element | None, resolve: Resolver | None) -> dict[int, str]:
    """Cached points by index (of multi-level categories, the innermost level), else the referenced cells."""
    if data is None:
        return {}
    if next(descendants(data, "pt"), None) is None:
        return _referenced(data, resolve)
    level = next(descendants(data, "lvl"), data)
    points: dict[int, str] = {}
    for point in _direct_points(level):
        index = point.get("idx", "")
        if index.isdigit() and int(index) < MAX_CHART_ROWS:
            points[int(index)] = _text(_child(point, "v"))
    return points


def _direct_points(level: Element) -> Iterator[Element]:
    if local_name(level) == "lvl":
        return (child for child in level if local_name(child) == "pt")
    return descendants(level, "pt")


def _rows(series: list[_Series]) -> list[list[str]]:
    if not any(item.values for item in series):
        return []
    categories = next((item.categories for item in series if item.categories), {})
    count = max(max((*item.values, *item.categories), default=-1) for item in series) + 1
    header = ["", *(item.name or f"Series {number}" for number, item in enumerate(series, start=1))]
    body = [[categories.get(index, str(index + 1)), *(item.values.get(index, "") for item in series)]
            for index in range(count)]
    return [header, *body]
