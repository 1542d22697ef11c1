"""Small test inputs for OCR: images of known text where it was drawn, and PDFs made of them."""

from __future__ import annotations

import io
from collections.abc import Sequence

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

LINE_HEIGHT = 56
MARGIN = 40


def text_image(lines: Sequence[str], *, font_size: int = 34, width: int = 900) -> Image.Image:
    """White image with ``lines`` in black (Pillow's bundled Aileron font), one per row."""
    image = Image.new("RGB", (width, 2 * MARGIN + LINE_HEIGHT * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    for row, line in enumerate(lines):
        draw.text((MARGIN, MARGIN + row * LINE_HEIGHT), line, fill="black", font=font)
    return image


def text_boxes(lines: Sequence[str], *, font_size: int = 34) -> list[tuple[int, int, int, int]]:
    """Where :func:`text_image` puts the ink of each line: ``(x0, y0, x1, y1)`` in pixels."""
    font = ImageFont.load_default(size=font_size)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    boxes = [draw.textbbox((MARGIN, MARGIN + row * LINE_HEIGHT), line, font=font) for row, line in enumerate(lines)]
    return [(int(x0), int(y0), int(x1), int(y1)) for x0, y0, x1, y1 in boxes]


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def scanned_pdf(images: Sequence[Image.Image]) -> bytes:
    """A PDF with one A4 page per image, the image filling the page width, and no text layer."""
    pdf = FPDF(unit="pt", format="A4")
    for image in images:
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=pdf.w)
    return bytes(pdf.output())


def text_pdf(pages: Sequence[Sequence[tuple[str, int]]]) -> bytes:
    """A PDF with a text layer: per page, ``(text, font size)`` paragraphs (a large size makes a heading)."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_font("helvetica")
    for paragraphs in pages:
        pdf.add_page()
        for text, size in paragraphs:
            pdf.set_font_size(size)
            pdf.multi_cell(w=0, h=size * 1.3, text=text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(size)
    return bytes(pdf.output())
