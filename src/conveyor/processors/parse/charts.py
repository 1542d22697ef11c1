"""Charts (DrawingML ``c:chartSpace`` parts, in decks and workbooks): a caption and a table of their data.

A chart part caches what it draws: per series a name, category labels and values. That cache is what is
rendered, one row per category and one column per series, so no embedded workbook is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conveyor.processors.parse.ooxml import Element, descendants, local_name, text_of
from conveyor.processors.parse.tables import markdown_table

MAX_CHART_ROWS = 1_000


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


def read_chart(chart_space: Element) -> Chart:
    """The title and cached data of the chart whose part root is ``chart_space``."""
    chart = _child(chart_space, "chart")
    if chart is None:
        return Chart(title="", rows=[])
    plot_area = _child(chart, "plotArea")
    series = [] if plot_area is None else [_series(element) for element in descendants(plot_area, "ser")]
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


def _series(series: Element) -> _Series:
    return _Series(
        name=_text(_child(series, "tx")),
        categories=_points(_child(series, "cat", "xVal")),
        values=_points(_child(series, "val", "yVal")),
    )


def _points(data: Element | None) -> dict[int, str]:
    """Cached points by index; of multi-level categories, the innermost level."""
    if data is None:
        return {}
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
