"""The OCR models (RapidOCR: PP-OCRv4 text detection and recognition on ONNX Runtime), one set per process.

The models ship inside the ``rapidocr-onnxruntime`` wheel; nothing is downloaded. Loading them takes
about a second, so the engine is created on first use and kept for the life of the (worker) process.
Images are BGR ``uint8`` arrays of shape ``(height, width, 3)``, as OpenCV has them.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]
"""A text region: 4 corners ``(x, y)`` clockwise from the top-left, shape ``(4, 2)``."""


@functools.cache
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR  # imported here: it loads OpenCV and ONNX Runtime

    return RapidOCR()


def detect(image: Image) -> list[Quad]:
    """The text regions of an image, each about one line (or a run of words on one line)."""
    quads, _ = _engine().text_det(image)
    return [] if quads is None else [np.asarray(quad, dtype=np.float32) for quad in quads]


def recognise(crops: list[Image]) -> list[tuple[str, float]]:
    """The text and mean character confidence (0 to 1) of each upright line image."""
    if not crops:
        return []
    results, _ = _engine().text_rec(crops)
    return [(str(text), float(score)) for text, score in results]
