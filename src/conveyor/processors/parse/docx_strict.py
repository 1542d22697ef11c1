"""Strict OOXML (ISO/IEC 29500 Strict) word files, rewritten in the Transitional namespaces.

python-docx reads only Transitional documents. The two flavours differ mostly in namespace URIs, so
renaming them in every XML part lets python-docx read a Strict document.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

_STRICT_NAMESPACE = re.compile(
    rb"http://purl\.oclc\.org/ooxml/(wordprocessingml|drawingml|officeDocument|spreadsheetml|presentationml)/"
)
_XML_PART = re.compile(r"(\.xml|\.rels)$", re.I)


def is_strict(path: Path) -> bool:
    """Whether the package's root relationships use the Strict namespaces."""
    with zipfile.ZipFile(path) as package:
        try:
            relationships = package.read("_rels/.rels")
        except KeyError:
            return False
    return bool(_STRICT_NAMESPACE.search(relationships))


def transitional_copy(path: Path) -> io.BytesIO:
    """An in-memory copy of the package with every Strict namespace URI renamed to Transitional."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if _XML_PART.search(info.filename):
                data = _STRICT_NAMESPACE.sub(rb"http://schemas.openxmlformats.org/\1/2006/", data)
            target.writestr(info.filename, data)
    buffer.seek(0)
    return buffer
