"""Core ids: a type prefix and a time-sortable unique part (``ds_01J…``)."""

from __future__ import annotations

import os
import time
from enum import StrEnum

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


class Kind(StrEnum):
    """The type prefix of each core id."""

    PROJECT = "prj"
    API_KEY = "key"
    CONTAINER = "ds"
    ELEMENT = "el"
    AGENT = "ag"
    ARTIFACT_SCHEMA = "as"
    RECIPE = "bd"
    RUN = "bx"
    ITEM = "it"
    UPLOAD = "up"
    DOWNLOAD = "dl"
    UPLOAD_SESSION = "mus"
    UPLOAD_PART = "prt"
    JOB = "job"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(kind: Kind) -> str:
    """A new id: 48-bit millisecond time then 80 random bits, so ids sort by creation."""
    millis = time.time_ns() // 1_000_000
    return f"{kind.value}_{_encode(millis, 10)}{_encode(int.from_bytes(os.urandom(10), 'big'), 16)}"
