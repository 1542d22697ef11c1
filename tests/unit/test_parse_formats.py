"""Media type detection from a file name and its first bytes."""

from __future__ import annotations

import io
import zipfile

import pytest

from conveyor.processors.parse.formats import (
    CSV,
    DOCX,
    HTML,
    JPEG,
    MARKDOWN,
    OCTET_STREAM,
    PDF,
    PNG,
    PPTX,
    TEXT,
    TIFF,
    WEBP,
    XLSM,
    XLSX,
    ZIP,
    detect_media_type,
    is_supported,
    normalize_media_type,
)


def _zip_head(*members: str, size: int = 8192) -> bytes:
    """The first bytes of a zip archive holding the named (small) members, in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            archive.writestr(member, "<xml/>" * 20)
    return buffer.getvalue()[:size]


_OFFICE_MEMBERS = ("[Content_Types].xml", "_rels/.rels")


@pytest.mark.parametrize(("name", "expected"), [
    ("report.pdf", PDF), ("REPORT.PDF", PDF), ("notes.docx", DOCX), ("deck.pptx", PPTX),
    ("sheet.xlsx", XLSX), ("page.html", HTML), ("page.htm", HTML), ("readme.md", MARKDOWN),
    ("data.csv", CSV), ("notes.txt", TEXT), ("photo.jpg", JPEG),
])
def test_extension_decides_when_the_bytes_say_nothing(name: str, expected: str) -> None:
    assert detect_media_type(name, b"") == expected


def test_pdf_magic_beats_the_extension() -> None:
    assert detect_media_type("scan.docx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj") == PDF


def test_pdf_header_after_leading_junk() -> None:
    assert detect_media_type("upload", b"\r\n\x00garbage" + b"%PDF-1.4\n") == PDF


@pytest.mark.parametrize(("member", "expected"), [
    ("word/document.xml", DOCX), ("ppt/presentation.xml", PPTX), ("xl/workbook.xml", XLSX),
])
def test_office_zip_told_apart_by_member_names(member: str, expected: str) -> None:
    head = _zip_head(*_OFFICE_MEMBERS, member)
    assert detect_media_type("upload.bin", head) == expected
    assert detect_media_type("misnamed.pptx" if expected != PPTX else "misnamed.docx", head) == expected


def test_macro_workbook_keeps_its_extension_type() -> None:
    assert detect_media_type("budget.xlsm", _zip_head(*_OFFICE_MEMBERS, "xl/workbook.xml")) == XLSM


def test_zip_whose_members_lie_beyond_the_head_trusts_an_office_extension() -> None:
    head = _zip_head(*_OFFICE_MEMBERS, "word/document.xml", size=40)
    assert detect_media_type("letter.docx", head) == DOCX
    assert detect_media_type("letter", head) == ZIP


def test_plain_zip() -> None:
    assert detect_media_type("archive.zip", _zip_head("a.txt", "b.txt")) == ZIP
    assert detect_media_type("archive", _zip_head("a.txt")) == ZIP


@pytest.mark.parametrize("head", [
    b"<!DOCTYPE html><html><body>hi</body></html>",
    b"\xef\xbb\xbf  <!-- generated -->\n<html lang='en'>",
    b"\n<HTML>\n<HEAD><TITLE>x</TITLE>",
    b"<body><p>fragment</p></body>",
])
def test_html_sniffed_without_an_extension(head: bytes) -> None:
    assert detect_media_type("index", head) == HTML


def test_extension_beats_html_sniffing() -> None:
    assert detect_media_type("snippet.txt", b"<html><body>x</body></html>") == TEXT


def test_text_without_an_extension() -> None:
    assert detect_media_type("README", "Grüße aus Köln\nline two\n".encode()) == TEXT


def test_text_head_cut_inside_a_multibyte_character() -> None:
    assert detect_media_type("LICENSE", "naïve café ".encode() * 10 + "é".encode()[:1]) == TEXT


@pytest.mark.parametrize("head", [b"", b"\x00\x01\x02\x03binary", bytes(range(256)), b"\xff\xfe\x00\x01" * 50])
def test_unknown_binary_is_octet_stream(head: bytes) -> None:
    assert detect_media_type("blob", head) == OCTET_STREAM


def test_image_magic() -> None:
    assert detect_media_type("picture.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == PNG
    assert detect_media_type("picture", b"\xff\xd8\xff\xe0\x00\x10JFIF") == JPEG


def test_webp_and_tiff_magic() -> None:
    assert detect_media_type("upload", b"RIFF\x24\x00\x00\x00WEBPVP8L") == WEBP
    assert detect_media_type("upload.png", b"RIFF\x24\x00\x00\x00WEBPVP8 ") == WEBP  # the bytes beat the name
    assert detect_media_type("photo.webp", b"") == WEBP
    assert detect_media_type("clip", b"RIFF\x24\x00\x00\x00WAVEfmt ") == OCTET_STREAM
    assert detect_media_type("scan", b"II*\x00\x08\x00\x00\x00") == TIFF
    assert detect_media_type("scan.jpg", b"MM\x00*\x00\x00\x00\x08") == TIFF
    assert all(is_supported(kind) for kind in (PNG, JPEG, TIFF, WEBP, "image/gif"))


def test_normalize_and_supported() -> None:
    assert normalize_media_type(" Text/HTML; charset=UTF-8") == HTML
    assert is_supported("text/csv; header=present")
    assert is_supported(PDF)
    assert is_supported(DOCX)
    assert is_supported(PPTX)
    assert is_supported(XLSM)
    assert not is_supported(ZIP)
    assert not is_supported(OCTET_STREAM)
