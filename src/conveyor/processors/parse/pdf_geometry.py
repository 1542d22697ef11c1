"""Where things are on a PDF page as displayed: from PDF page space to top-left-origin coordinates.

PDF page space has its origin at the bottom-left of the media box and y growing upwards; the page shows
its crop box, turned clockwise by its ``/Rotate`` angle. Display coordinates, used for every bounding
box the parser reports, are points from the top-left corner of the page as shown, y growing downwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pypdfium2.raw as pdfium_c

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
        """The frame of a ``pypdfium2.PdfPage``: the part of its media box inside its crop box (boxes
        inherited from the page tree included, which ``get_cropbox`` misses)."""
        box = pdfium_c.FS_RECTF()
        if not pdfium_c.FPDF_GetPageBoundingBox(page, box):
            width, height = page.get_size()
            return cls(left=0.0, bottom=0.0, width=width, height=height)
        return cls(left=box.left, bottom=box.bottom, width=box.right - box.left, height=box.top - box.bottom,
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
