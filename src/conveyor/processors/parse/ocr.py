"""OCR of one page image: find the text lines, turn the page upright, recognise, lay out in reading order.

The image is scaled down first if its longer side exceeds :data:`MAX_SIDE` (detection time grows with
the pixel count; text that small stays legible), and padded so that text at the edges and very wide or
very tall images are detected. Regions recognised with less than :data:`MIN_CONFIDENCE` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image as PILImage

from conveyor.processors.parse import ocr_engine
from conveyor.processors.parse.document import BBox, Block
from conveyor.processors.parse.ocr_engine import Image, Quad
from conveyor.processors.parse.ocr_layout import OcrParagraph, TextRegion, paragraphs
from conveyor.processors.parse.ocr_rotation import line_crop, quarter_turns, turned_box

MAX_SIDE = 2500
MIN_CONFIDENCE = 0.5
_PAD = 16
_MAX_ASPECT = 8  # detection works on images at most this elongated


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


@dataclass(frozen=True)
class _Canvas:
    """The image as the models see it: scaled by ``scale`` and offset by the padding."""

    pixels: Image
    scale: float
    left: int
    top: int
    size: tuple[int, int]  # of the image given


def read_image(image: PILImage.Image) -> OcrPage:
    """The text of ``image`` in reading order."""
    canvas = _canvas(image)
    quads = ocr_engine.detect(canvas.pixels)
    turns = quarter_turns(canvas.pixels, quads)
    found = ocr_engine.recognise([line_crop(canvas.pixels, quad, turns) for quad in quads])
    height, width = canvas.pixels.shape[:2]
    regions = [TextRegion(text=text.strip(), confidence=score, box=turned_box(quad, turns, width, height),
                          source=_source(quad, canvas))
               for quad, (text, score) in zip(quads, found, strict=True)
               if score >= MIN_CONFIDENCE and text.strip()]
    return OcrPage(paragraphs=paragraphs(regions))


def _canvas(image: PILImage.Image) -> _Canvas:
    scale = min(1.0, MAX_SIDE / max(image.size))
    rgb = image.convert("RGB")
    if scale < 1:
        rgb = rgb.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         PILImage.Resampling.LANCZOS)
    pixels = np.asarray(rgb)[:, :, ::-1]  # RGB to BGR
    height, width = pixels.shape[:2]
    pad_x = max(_PAD, (height // _MAX_ASPECT - width) // 2)
    pad_y = max(_PAD, (width // _MAX_ASPECT - height) // 2)
    padded = cv2.copyMakeBorder(np.ascontiguousarray(pixels), pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
    return _Canvas(pixels=np.asarray(padded, dtype=np.uint8), scale=scale, left=pad_x, top=pad_y, size=image.size)


def _source(quad: Quad, canvas: _Canvas) -> BBox:
    """Where ``quad`` lies in the image given: unpadded, unscaled, clipped to the image."""
    width, height = canvas.size
    xs = np.clip((quad[:, 0] - canvas.left) / canvas.scale, 0, width)
    ys = np.clip((quad[:, 1] - canvas.top) / canvas.scale, 0, height)
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _scaled(box: BBox, factor: float) -> BBox:
    return box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor
