"""Hostile input files, generated small on disk: bombs, truncations, lies about the format.

Each generator writes one file into a folder and returns its path. The bombs are cheap to make and to
upload (a few MB at most) and expensive to parse.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


def zip_bomb_docx(folder: Path, inflated_mb: int = 1024) -> Path:
    """A DOCX whose ``word/document.xml`` inflates to ``inflated_mb`` MB of paragraphs (about 1 MB per GB
    on disk), written as a stream so making it needs no memory."""
    path = folder / "zip-bomb.docx"
    paragraph = b"<w:p><w:r><w:t>" + b"all work and no play " * 40 + b"</w:t></w:r></w:p>"
    chunk = paragraph * ((1 << 20) // len(paragraph))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f"<w:document {_W}><w:body>".encode())
            for _ in range(inflated_mb):
                part.write(chunk)
            part.write(b"</w:body></w:document>")
    return path


def billion_laughs_docx(folder: Path) -> Path:
    """A DOCX whose document declares ten levels of entities, each ten of the one before (10^9 laughs)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
    document = (f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
                f"<w:document {_W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    path = folder / "billion-laughs.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("word/document.xml", document)
    return path


def nested_html(folder: Path, depth: int = 10_000) -> Path:
    path = folder / "nested.html"
    path.write_text(f"<html><body>{'<div>' * depth}deep inside{'</div>' * depth}</body></html>")
    return path


def slow_html(folder: Path, rows: int = 200_000) -> Path:
    """A page the HTML parser needs a long while for (a 25 MB table): a time bomb, not a memory one."""
    path = folder / "huge-table.html"
    with path.open("w") as file:
        file.write("<html><body><table>")
        for row in range(rows):
            file.write(f"<tr><td>{row}</td><td>{'cell ' * 20}</td></tr>")
        file.write("</table></body></html>")
    return path


def truncated_pdf(folder: Path, source: Path) -> Path:
    path = folder / f"truncated-{source.name}"
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.pdf"
    path.write_bytes(b"")
    return path


def png_named_pdf(folder: Path) -> Path:
    path = folder / "image-really.pdf"
    path.write_bytes(PNG_HEAD + bytes(64))
    return path


def pdf_named_docx(folder: Path, source: Path) -> Path:
    path = folder / "pdf-really.docx"
    path.write_bytes(source.read_bytes())
    return path


def pdf_bomb(folder: Path, operators: int = 2_000_000) -> Path:
    """A page whose compressed content stream holds millions of text-showing operators (a few hundred KB
    on disk, tens of MB inflated, about 1 GB of parser memory), and a page drawing a cycle of 1,000
    nested form XObjects."""
    text = b"BT /F1 1 Tf " + b"1 0 0 1 10 10 Tm (x) Tj " * operators + b"ET"
    forms = [f"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X {8 + (n + 1) % 1000}"
             f" 0 R >> >> /Length 5 >>\nstream\n/X Do\nendstream".encode() for n in range(1000)]
    return _write_pdf(folder / "pdf-bomb.pdf", [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        _page(5, b"/Font << /F1 6 0 R >>"),
        _page(7, b"/XObject << /X 8 0 R >>"),
        _stream(text),
        _HELVETICA,
        b"<< /Length 4 >>\nstream\n/X Do\nendstream",
        *forms,
    ])


def pdf_time_bomb(folder: Path, pages: int = 60_000) -> Path:
    """60,000 pages of 40 lines, all sharing one content stream: 10 MB on disk, about a minute of text
    extraction on a 2-core machine, with memory growing only slowly: a time bomb, not a memory one."""
    lines = b" ".join(f"(Line {i} of a page that repeats itself.) Tj 0 -14 Td".encode() for i in range(40))
    kids = b" ".join(f"{5 + n} 0 R".encode() for n in range(pages))
    return _write_pdf(folder / "pdf-time-bomb.pdf", [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + f"] /Count {pages} >>".encode(),
        _stream(b"BT /F1 12 Tf 72 720 Td " + lines + b" ET"),
        _HELVETICA,
        *[_page(3, b"/Font << /F1 4 0 R >>")] * pages,
    ])


_HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _page(contents: int, resources: bytes) -> bytes:
    return (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R /Resources << ".encode()
            + resources + b" >> >>")


def _stream(content: bytes) -> bytes:
    compressed = zlib.compress(content, 9)
    return f"<< /Length {len(compressed)} /Filter /FlateDecode >>\nstream\n".encode() + compressed + b"\nendstream"


def _write_pdf(path: Path, objects: list[bytes]) -> Path:
    """Objects numbered from 1 in order, the first being the catalog, with a correct cross-reference table."""
    body, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(body))
    return path



