"""Recognising a page image: find the text lines, turn the page upright, read the lines, lay them out.

The image is scaled down first if its longer side exceeds ``max_side``, and padded so that text at the
edges and very wide or very tall images are detected. Regions read with less than
:data:`MIN_CONFIDENCE` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image as PILImage

from conveyor.processors.parse import ocr_engine
from conveyor.processors.parse.document import BBox
from conveyor.processors.parse.ocr_engine import Image, Quad
from conveyor.processors.parse.ocr_layout import OcrParagraph, TextRegion, paragraphs
from conveyor.processors.parse.ocr_rotation import line_crop, quarter_turns, turned_box

MIN_CONFIDENCE = 0.5
_PAD = 16
_MAX_ASPECT = 8  # detection works on images at most this elongated


@dataclass(frozen=True)
class _Canvas:
    """The image as the models see it: scaled by ``scale`` and offset by the padding."""

    pixels: Image
    scale: float
    left: int
    top: int
    size: tuple[int, int]  # of the image given


def recognise(image: PILImage.Image, max_side: int) -> list[OcrParagraph]:
    """The paragraphs of ``image`` in reading order, their lines' ``source`` boxes in its pixels."""
    canvas = _canvas(image, max_side)
    quads = ocr_engine.detect(canvas.pixels)
    turns = quarter_turns(canvas.pixels, quads)
    found = ocr_engine.recognise([line_crop(canvas.pixels, quad, turns) for quad in quads])
    height, width = canvas.pixels.shape[:2]
    regions = [TextRegion(text=text.strip(), confidence=score, box=turned_box(quad, turns, width, height),
                          source=_source(quad, canvas))
               for quad, (text, score) in zip(quads, found, strict=True)
               if score >= MIN_CONFIDENCE and text.strip()]
    return paragraphs(regions)


def _canvas(image: PILImage.Image, max_side: int) -> _Canvas:
    scale = min(1.0, max_side / max(image.size))
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
