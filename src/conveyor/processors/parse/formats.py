"""Media types: guessing one from a file's name and first bytes, and the ones the parser reads.

Magic bytes that identify a format for sure (PDF, zip, images) beat the extension; the extension beats
content sniffing; sniffing tells HTML and plain text from binary; everything else is
``application/octet-stream``.
"""

from __future__ import annotations

import re
import struct
from pathlib import PurePath
from types import MappingProxyType

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroenabled.12"
ZIP = "application/zip"
HTML = "text/html"
XHTML = "application/xhtml+xml"
MARKDOWN = "text/markdown"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TEXT = "text/plain"
JSON = "application/json"
XML = "application/xml"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
TIFF = "image/tiff"
WEBP = "image/webp"
OCTET_STREAM = "application/octet-stream"

IMAGE_TYPES = frozenset({PNG, JPEG, GIF, TIFF, WEBP})
"""Images, read through OCR."""

SUPPORTED_MEDIA_TYPES = frozenset({
    PDF, DOCX, PPTX, XLSX, XLSM, HTML, XHTML, MARKDOWN, "text/x-markdown", CSV, TSV, TEXT,
}) | IMAGE_TYPES
"""The media types :func:`conveyor.processors.parse.parse_file` reads."""

HEAD_SIZE = 8192
"""How many leading bytes :func:`detect_media_type` wants to see (it works with fewer)."""

_BY_EXTENSION = MappingProxyType({
    "pdf": PDF, "docx": DOCX, "pptx": PPTX, "xlsx": XLSX, "xlsm": XLSM, "zip": ZIP,
    "html": HTML, "htm": HTML, "xhtml": XHTML, "md": MARKDOWN, "markdown": MARKDOWN,
    "csv": CSV, "tsv": TSV, "tab": TSV, "txt": TEXT, "text": TEXT, "log": TEXT,
    "json": JSON, "xml": XML, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "gif": GIF,
    "tif": TIFF, "tiff": TIFF, "webp": WEBP,
})
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"GIF87a", GIF), (b"GIF89a", GIF),
    (b"II*\x00", TIFF), (b"MM\x00*", TIFF),
)
_OOXML_PARTS = ((b"word/", DOCX), (b"ppt/", PPTX), (b"xl/", XLSX))
_ZIP_TYPES = frozenset({DOCX, PPTX, XLSX, XLSM, ZIP})
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_ZIP_LOCAL_HEADER = b"PK\x03\x04"


def normalize_media_type(media_type: str) -> str:
    """``"Text/HTML; charset=utf-8"`` → ``"text/html"``."""
    return media_type.split(";", 1)[0].strip().lower()


def is_supported(media_type: str) -> bool:
    return normalize_media_type(media_type) in SUPPORTED_MEDIA_TYPES


def detect_media_type(name: str, head: bytes) -> str:
    """Guess the media type of a file from its name and its first bytes (ideally :data:`HEAD_SIZE`)."""
    by_name = _BY_EXTENSION.get(PurePath(name).suffix.lower().lstrip("."))
    by_magic = _binary_magic(head, by_name)
    if by_magic is not None:
        return by_magic
    if by_name is not None:
        return by_name
    return _sniff_text(head)


def _binary_magic(head: bytes, by_name: str | None) -> str | None:
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(_ZIP_LOCAL_HEADER):
        return _zip_kind(head, by_name)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    return next((kind for magic, kind in _IMAGE_MAGIC if head.startswith(magic)), None)


def _zip_kind(head: bytes, by_name: str | None) -> str:
    """Tell Office files apart by the member names visible in the head; else trust a zip-ish name."""
    for member in _zip_member_names(head):
        for prefix, kind in _OOXML_PARTS:
            if member.startswith(prefix):
                return XLSM if kind == XLSX and by_name == XLSM else kind
    return by_name if by_name in _ZIP_TYPES else ZIP


def _zip_member_names(head: bytes) -> list[bytes]:
    """The names of the zip members whose local headers lie within ``head``."""
    names: list[bytes] = []
    offset = 0
    while head.startswith(_ZIP_LOCAL_HEADER, offset) and offset + 30 <= len(head):
        compressed, name_len, extra_len = struct.unpack_from("<14xI4xHH", head, offset + 4)
        names.append(head[offset + 30:offset + 30 + name_len])
        offset += 30 + name_len + extra_len + compressed
    return names


def _sniff_text(head: bytes) -> str:
    if not head or b"\x00" in head:
        return OCTET_STREAM
    if _HTML_START.match(head.lstrip(b"\xef\xbb\xbf")):
        return HTML
    return TEXT if _looks_like_text(head) else OCTET_STREAM


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # a multi-byte character cut off at the end of the head is fine
            return False
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f")
    return controls * 100 <= len(head)
