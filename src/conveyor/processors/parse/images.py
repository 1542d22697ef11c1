"""Images (PNG, JPEG, TIFF, WebP, GIF) through OCR: each TIFF frame is a page, other formats give one page
(the first frame of an animation).

Pillow decodes the image; one larger than Pillow's ``MAX_IMAGE_PIXELS`` (about 89 megapixels) is
refused before it is decoded, as a likely decompression bomb. JPEGs are decoded straight at a reduced
size when they are larger than OCR needs. Bounding boxes are in pixels of the image as stored (an EXIF
orientation tag is not applied: OCR finds which way up the text is by itself).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from PIL import Image, UnidentifiedImageError

from conveyor.errors import PermanentError
from conveyor.processors.parse.document import PageLayout, ParsedDocument
from conveyor.processors.parse.ocr import MAX_SIDE, read_image
from conveyor.processors.parse.options import parse_options

_DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's default limit, should it have been switched off
_WHITE = (255, 255, 255)


def parse_image(path: Path, options: Mapping[str, Any]) -> ParsedDocument:
    settings = parse_options(options)
    with _open(path) as image:
        frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
        layouts = [_page(image, number, settings.ocr) for number in settings.page_numbers(frames)]
    markdown = [markdown for _, markdown in layouts if markdown]
    return ParsedDocument.from_layouts(markdown="\n\n".join(markdown), layouts=[layout for layout, _ in layouts])


def max_pixels() -> int:
    return int(Image.MAX_IMAGE_PIXELS or _DEFAULT_MAX_PIXELS)


def _open(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise PermanentError(f"image is too large to decode: more than {max_pixels():,} pixels") from e
    except UnidentifiedImageError as e:
        raise PermanentError("not a valid image file: its format is not recognised") from e


def _page(image: Image.Image, number: int, ocr: str) -> tuple[PageLayout, str]:
    """The layout and markdown of frame ``number`` (1-based)."""
    image.seek(number - 1)
    width, height = image.size
    if width * height > max_pixels():
        raise PermanentError(f"image is too large to decode: {width} × {height} pixels, "
                             f"more than {max_pixels():,}")
    if ocr == "off":
        return PageLayout(number=number, width=width, height=height, text=""), ""
    pixels = _rgb(_decoded(image))
    found = read_image(pixels)
    blocks = found.blocks(pixels_per_unit=pixels.width / width)
    return (PageLayout(number=number, width=width, height=height, text=found.text, blocks=blocks,
                       markdown=found.markdown), found.markdown)


def _decoded(image: Image.Image) -> Image.Image:
    """The current frame decoded, at a reduced size if the format can and the frame is larger than OCR uses."""
    if image.format == "JPEG" and max(image.size) > 2 * MAX_SIDE:
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))
    image.load()
    return image


def _rgb(image: Image.Image) -> Image.Image:
    """An RGB copy: transparency flattened onto white, 16-bit and float greys stretched to 8 bits."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        wide = image.convert("F")
        low, high = cast(tuple[float, float], wide.getextrema())  # one band: (min, max)
        factor = 255 / (high - low) if high > low else 0.0
        return wide.point(lambda value: (value - low) * factor).convert("L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")
