"""Where things are on a PDF page as displayed: from PDF page space to top-left-origin coordinates.

PDF page space has its origin at the bottom-left of the media box and y growing upwards; the page shows
its crop box, turned clockwise by its ``/Rotate`` angle. Display coordinates, used for every bounding
box the parser reports, are points from the top-left corner of the page as shown, y growing downwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conveyor.processors.parse.document import BBox


@dataclass(frozen=True)
class PageFrame:
    """The crop box of a page (``left``, ``bottom``, ``width``, ``height`` in page space) and its rotation."""

    left: float
    bottom: float
    width: float
    height: float
    rotation: int = 0

    @classmethod
    def of(cls, page: Any) -> PageFrame:
        left, bottom, right, top = page.get_cropbox()
        return cls(left=left, bottom=bottom, width=right - left, height=top - bottom,
                   rotation=page.get_rotation() % 360)

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the page as displayed."""
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)

    def display_box(self, left: float, bottom: float, right: float, top: float) -> BBox:
        """The box ``(left, bottom, right, top)`` of page space as ``(x0, y0, x1, y1)`` on the display."""
        corners = [self._point(x, y) for x in (left, right) for y in (bottom, top)]
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        return min(xs), min(ys), max(xs), max(ys)

    def _point(self, x: float, y: float) -> tuple[float, float]:
        x, y = x - self.left, y - self.bottom
        if self.rotation == 90:
            return y, x
        if self.rotation == 180:
            return self.width - x, y
        if self.rotation == 270:
            return self.height - y, self.width - x
        return x, self.height - y
