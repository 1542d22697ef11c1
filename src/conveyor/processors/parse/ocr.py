"""OCR of one page image, as the parsers see it: :func:`read_image` gives the text in reading order.

OpenCV and ONNX Runtime are heavy to load (and OpenCV needs system libraries such as libGL), so they
are imported on the first image that needs OCR, not with the parser: parsing text PDFs and office files
never loads them. See :mod:`~conveyor.processors.parse.ocr_pipeline` for how a page is recognised.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from conveyor.errors import PermanentError
from conveyor.processors.parse.document import BBox, Block
from conveyor.processors.parse.ocr_layout import OcrParagraph

MAX_SIDE = 2500
"""Pixels: larger images are scaled down before OCR (detection time grows with the pixel count; text
that would become illegible at this size is rare on a page)."""


@dataclass(frozen=True)
class OcrPage:
    """The text found on a page image; boxes are in the image's pixels."""

    paragraphs: list[OcrParagraph]

    @property
    def text(self) -> str:
        return "\n\n".join(paragraph.text for paragraph in self.paragraphs)

    @property
    def markdown(self) -> str:
        return "\n\n".join(paragraph.markdown for paragraph in self.paragraphs)

    def blocks(self, pixels_per_unit: float = 1.0) -> list[Block]:
        """One ``ocr_line`` block per line, boxes divided by ``pixels_per_unit`` (the render scale of a
        PDF page gives points)."""
        return [Block(type="ocr_line", text=line.text, confidence=line.confidence,
                      bbox=_scaled(line.source, 1 / pixels_per_unit))
                for paragraph in self.paragraphs for line in paragraph.lines]


def read_image(image: Image.Image) -> OcrPage:
    """The text of ``image`` in reading order. Raises :class:`PermanentError` if OCR cannot be loaded."""
    try:
        from conveyor.processors.parse.ocr_pipeline import recognise
    except ImportError as e:  # OpenCV without its system libraries, say
        raise PermanentError(f"OCR is not available on this server: {e}") from e
    return OcrPage(paragraphs=recognise(image, max_side=MAX_SIDE))


def _scaled(box: BBox, factor: float) -> BBox:
    return box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor
