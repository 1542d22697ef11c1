"""Opaque page tokens (``page_token`` in, ``next_page_token`` out) and the page size every list takes."""

from __future__ import annotations

import base64
import binascii

from fastapi import Query

from conveyor.errors import InvalidInputError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
PageSize = Query(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
PageToken = Query(default=None, max_length=500)


def encode(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode(token: str | None) -> str | None:
    """The position a token stands for; a token this server did not hand out is a 422."""
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise InvalidInputError("invalid page_token", loc=("query", "page_token")) from e


def offset_of(token: str | None) -> int:
    position = decode(token)
    if position is None:
        return 0
    if not position.isdigit():
        raise InvalidInputError("invalid page_token", loc=("query", "page_token"))
    return int(position)


def next_offset_token(offset: int, shown: int, total: int) -> str | None:
    following = offset + shown
    return encode(str(following)) if shown and following < total else None
