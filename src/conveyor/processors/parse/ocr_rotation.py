"""Which way up a page image is, and cutting its text lines out upright.

A page is turned by a multiple of 90°: ``turns`` counts quarter turns counter-clockwise that make it
upright (``numpy.rot90``'s sense), so a page whose text runs top to bottom needs 1. The shape of the
detected text regions tells lines lying across (0 or 2 turns) from lines standing up (1 or 3); which of
the two is right is decided by recognising a few of the longest lines both ways round: upside-down
text comes out as low-confidence noise.
"""

from __future__ import annotations

import statistics

import cv2
import numpy as np

from conveyor.processors.parse import ocr_engine
from conveyor.processors.parse.ocr_engine import Image, Quad

_ELONGATED = 2.0  # a line region is at least this many times longer than high
_PROBE_LINES = 6
_PROBE_LENGTH = 12  # the probe recognises at most this many line heights of each line
_STANDING = 1.5  # a crop this many times higher than wide after turning holds vertical text
_LINE_HEIGHT = 48  # pixels: the height of the recogniser's input


def quarter_turns(image: Image, quads: list[Quad]) -> int:
    """How many quarter turns counter-clockwise make the text of ``image`` upright."""
    sizes = [_size(quad) for quad in quads]
    across = sum(width for width, height in sizes if width >= _ELONGATED * height)
    standing = sum(height for width, height in sizes if height >= _ELONGATED * width)
    candidates = (1, 3) if standing > across else (0, 2)
    probe = _probe_quads(quads, sizes, standing=candidates[0] == 1)
    if not probe:
        return candidates[0]
    confidence = {turns: _mean_confidence(image, probe, turns) for turns in candidates}
    return max(candidates, key=lambda turns: confidence[turns])


def line_crop(image: Image, quad: Quad, turns: int) -> Image:
    """The region ``quad`` of ``image`` cut out straight and turned upright; a region that still stands
    up after turning (a vertical label on a page of horizontal text) is laid down like the page's lines."""
    crop = np.rot90(_straightened(image, quad), turns)
    height, width = crop.shape[:2]
    if height >= _STANDING * width:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)


def turned_box(quad: Quad, turns: int, width: int, height: int) -> tuple[float, float, float, float]:
    """The bounding box ``(left, top, right, bottom)`` of ``quad`` in the upright page, where the image
    as given is ``width`` × ``height``."""
    xs, ys = quad[:, 0], quad[:, 1]
    if turns == 1:
        xs, ys = ys, width - xs
    elif turns == 2:
        xs, ys = width - xs, height - ys
    elif turns == 3:
        xs, ys = height - ys, xs
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _size(quad: Quad) -> tuple[float, float]:
    """Length of the top edge and of the left edge of a region."""
    return float(np.linalg.norm(quad[1] - quad[0])), float(np.linalg.norm(quad[3] - quad[0]))


def _probe_quads(quads: list[Quad], sizes: list[tuple[float, float]], *, standing: bool) -> list[Quad]:
    lines = [(max(width, height), quad) for quad, (width, height) in zip(quads, sizes, strict=True)
             if (height if standing else width) >= _ELONGATED * (width if standing else height)]
    lines.sort(key=lambda line: -line[0])
    return [quad for _, quad in lines[:_PROBE_LINES]]


def _mean_confidence(image: Image, quads: list[Quad], turns: int) -> float:
    crops = [_shortened(line_crop(image, quad, turns)) for quad in quads]
    return statistics.mean(score if text.strip() else 0.0 for text, score in ocr_engine.recognise(crops))


def _shortened(crop: Image) -> Image:
    height = crop.shape[0]
    return crop[:, :height * _PROBE_LENGTH]


def _straightened(image: Image, quad: Quad) -> Image:
    """The quadrilateral ``quad`` of ``image`` warped to a rectangle (top edge first), enlarged (bicubic)
    so that the line is at least as thick as the recogniser's input: its own linear scaling of small
    crops blurs the gaps between words away."""
    sides = _size(quad)
    zoom = max(1.0, _LINE_HEIGHT / max(min(sides), 1.0))
    width, height = (max(round(side * zoom), 1) for side in sides)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    warped = cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE,
                                 flags=cv2.INTER_CUBIC)
    return np.asarray(warped, dtype=np.uint8)
