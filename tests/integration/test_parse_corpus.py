"""Parsing the shared corpus: text fidelity against Docling's ground truth, and robustness.

Fidelity is word recall: the share of the ground truth's words (markdown syntax stripped, lowercased,
counted as a multiset) that our markdown contains. Floors sit a little below what the parser reaches;
the per-file notes name what is knowingly missed.
"""

from __future__ import annotations

import functools
import html
import os
import random
import re
import statistics
from collections import Counter
from pathlib import Path

import pytest

from conveyor.errors import PermanentError
from conveyor.processors.parse import ParsedDocument, detect_media_type, parse_file
from conveyor.processors.parse.formats import DOCX, HEAD_SIZE, HTML, PDF


def corpus_root() -> Path:
    """``../shared/corpus`` next to the repository, or ``$CONVEYOR_CORPUS``."""
    override = os.environ.get("CONVEYOR_CORPUS")
    return Path(override) if override else Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


FORMATS = ("pdf", "docx", "html", "md", "csv")
# Lowest recall of any one file, and lowest mean recall, per format (measured: see the report).
FILE_FLOOR = {"pdf": 0.83, "docx": 0.55, "html": 0.88, "md": 0.98, "csv": 0.98}
MEAN_FLOOR = {"pdf": 0.95, "docx": 0.89, "html": 0.98, "md": 0.99, "csv": 0.99}
KNOWN_GAPS = {
    "drawingml.docx": 0.2,  # chart series data, which Docling extracts from the embedded chart part
}


def _source_files(fmt: str) -> list[Path]:
    folder = corpus_root() / "docling" / fmt
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and _ground_truth(path) is not None)


def _ground_truth(path: Path) -> Path | None:
    folder = path.parent / "groundtruth"
    candidates = (folder / f"{path.name}.md", folder / f"{path.stem}.md")
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def _words(markdown: str) -> Counter[str]:
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.S)  # Docling's image placeholders
    text = re.sub(r"\]\([^)]*\)", "] ", text)  # link and image targets
    text = re.sub(r"</?[A-Za-z][^>]*>", " ", text)
    return Counter(re.findall(r"[^\W_]+", html.unescape(text).lower()))


def _recall(expected: str, actual: str) -> float:
    wanted, found = _words(expected), _words(actual)
    total = sum(wanted.values())
    return sum(min(count, found[word]) for word, count in wanted.items()) / total if total else 1.0


def _parse(path: Path) -> ParsedDocument:
    with path.open("rb") as file:
        media_type = detect_media_type(path.name, file.read(HEAD_SIZE))
    return parse_file(path, media_type, {})


@functools.cache
def _file_recall(path: Path) -> float:
    ground_truth = _ground_truth(path)
    assert ground_truth is not None
    return _recall(ground_truth.read_text(encoding="utf-8"), _parse(path).markdown)


@pytest.mark.parametrize("path", [path for fmt in FORMATS for path in _source_files(fmt)],
                         ids=lambda path: f"{path.parent.name}/{path.name}")
def test_corpus_file_parses_with_high_word_recall(path: Path) -> None:
    document = _parse(path)
    assert document.markdown.strip()
    assert document.text.strip()
    assert [page["page"] for page in document.pages] == list(range(1, len(document.pages) + 1))
    floor = KNOWN_GAPS.get(path.name, FILE_FLOOR[path.parent.name])
    assert _file_recall(path) >= floor


@pytest.mark.parametrize("fmt", FORMATS)
def test_mean_word_recall_per_format(fmt: str) -> None:
    files = _source_files(fmt)
    if not files:
        pytest.skip(f"no {fmt} corpus under {corpus_root()}")
    assert statistics.mean(_file_recall(path) for path in files) >= MEAN_FLOOR[fmt]


def _pypdf_samples() -> list[Path]:
    folder = corpus_root() / "pypdf-samples"
    return sorted(folder.glob("*.pdf")) if folder.is_dir() else []


@pytest.mark.parametrize("path", _pypdf_samples(), ids=lambda path: path.name)
def test_odd_pdfs_parse_or_fail_permanently(path: Path) -> None:
    try:
        document = parse_file(path, PDF, {})
    except PermanentError as e:
        if "password" in path.name:
            assert "password" in e.message
        return
    assert "password" not in path.name, "an encrypted PDF opened without its password"
    assert len(document.pages) >= 1


def test_encrypted_pdf_opens_with_its_password() -> None:
    path = corpus_root() / "pypdf-samples" / "005-libreoffice-writer-password.pdf"
    if not path.is_file():
        pytest.skip("encrypted sample missing")
    assert "Lorem ipsum" in parse_file(path, PDF, {"password": "openpassword"}).text
    with pytest.raises(PermanentError, match="password given is wrong"):
        parse_file(path, PDF, {"password": "not-it"})


def _hostile_inputs() -> list[tuple[str, bytes, str]]:
    noise = random.Random(20240315).randbytes(4096)
    pdf_start = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pa"
    nested = b"<div>" * 10_000 + b"deep inside" + b"</div>" * 10_000
    return [
        ("empty.pdf", b"", PDF),
        ("empty.html", b"", HTML),
        ("truncated.pdf", pdf_start, PDF),
        ("noise.pdf", noise, PDF),
        ("noise.docx", noise, DOCX),
        ("empty-zip.docx", b"PK\x05\x06" + b"\x00" * 18, DOCX),
        ("nested.html", nested, HTML),
        ("unclosed.html", b"<table><tr><td><b><i>" * 5_000, HTML),
        ("noise.txt", noise, "text/plain"),
        ("noise.csv", noise, "text/csv"),
        ("noise.html", noise, HTML),
        ("quote.csv", b'"' + b"a" * 200_000, "text/csv"),
        ("deck.pptx", b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("noise.png", b"\x89PNG\r\n\x1a\n" + noise, "image/png"),
        ("noise.jpg", b"\xff\xd8\xff\xe0" + noise, "image/jpeg"),
        ("noise.webp", b"RIFF\x00\x10\x00\x00WEBPVP8 " + noise, "image/webp"),
        ("noise.tiff", b"II*\x00" + noise, "image/tiff"),
        ("noise.gif", b"GIF89a" + noise, "image/gif"),
    ]


@pytest.mark.parametrize(("name", "data", "media_type"), _hostile_inputs(), ids=lambda value: str(value)[:20])
def test_hostile_input_parses_or_fails_permanently(tmp_path: Path, name: str, data: bytes,
                                                    media_type: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        document = parse_file(path, media_type, {})
    except PermanentError as e:
        assert e.message
        return
    assert isinstance(document.markdown, str)


def test_empty_file_message(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()
    with pytest.raises(PermanentError, match="file is empty"):
        parse_file(path, PDF, {})


def test_deeply_nested_html_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "nested.html"
    path.write_bytes(b"<div>" * 10_000 + b"deep inside" + b"</div>" * 10_000)
    assert parse_file(path, HTML, {}).text == "deep inside"


def test_unsupported_media_type(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(b'{"a": 1}')
    with pytest.raises(PermanentError, match="unsupported media type 'application/json'"):
        parse_file(path, "application/json", {})
