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


OFFSET = "offset"  # the position of the next item in a list that is ordered in memory
AFTER = "after"  # the core id of the last item shown, for lists paged in the database


def encode(kind: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode(token: str | None, kind: str) -> str | None:
    """The position a token stands for; a token this server did not hand out for this list is a 422."""
    if not token:
        return None
    try:
        found, _, position = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True) \
            .decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise InvalidInputError("invalid page_token", loc=("query", "page_token")) from e
    if found != kind or not position:
        raise InvalidInputError("invalid page_token", loc=("query", "page_token"))
    return position


def cursor_of(token: str | None) -> str | None:
    return decode(token, AFTER)


def cursor_token(cursor: str | None) -> str | None:
    return encode(AFTER, cursor) if cursor else None


def offset_of(token: str | None) -> int:
    position = decode(token, OFFSET)
    if position is None:
        return 0
    if not position.isdigit():
        raise InvalidInputError("invalid page_token", loc=("query", "page_token"))
    return int(position)


def next_offset_token(offset: int, shown: int, total: int) -> str | None:
    following = offset + shown
    return encode(OFFSET, str(following)) if shown and following < total else None
