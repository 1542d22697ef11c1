"""Streaming multipart/form-data: each file part is handed over chunk by chunk as it arrives.

Nothing is spooled or buffered whole; the caller writes the chunks where they belong (blob storage).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from email.utils import collapse_rfc2231_value, decode_rfc2231
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from conveyor.errors import InvalidInputError
from conveyor.services.containers import IncomingFile

MAX_FIELD_BYTES = 64 * 1024


class MultipartReader:
    """Pulls file parts out of a request body one at a time: ``while f := await reader.next_file()``."""

    def __init__(self, request: Request) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data" or b"boundary" not in params:
            raise InvalidInputError("expected a multipart/form-data body with a boundary",
                                    loc=("header", "content-type"))
        self._body = request.stream()
        self._events: deque[tuple[str, Any]] = deque()
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self._finished = False
        self.fields: dict[str, str] = {}
        self._parser = MultipartParser(params[b"boundary"], callbacks={
            "on_part_begin": self._part_begin, "on_part_data": self._part_data,
            "on_part_end": lambda: self._events.append(("end", None)),
            "on_header_field": self._header_field, "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self._events.append(("headers", dict(self._headers))),
        })

    # parser callbacks ---------------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(("data", bytes(data[start:end])))

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("utf-8", "replace")
        self._field, self._value = b"", b""

    # pulling ------------------------------------------------------------------------------------
    async def _next_event(self) -> tuple[str, Any] | None:
        while not self._events:
            if self._finished:
                return None
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                self._finished = True
                self._parser.finalize()
                continue
            if chunk:
                try:
                    self._parser.write(chunk)
                except Exception as e:
                    raise InvalidInputError(f"malformed multipart body: {e}", loc=("body",)) from e
        return self._events.popleft()

    async def next_file(self) -> IncomingFile | None:
        """The next file part (non-file fields are collected into ``fields`` on the way)."""
        while (event := await self._next_event()) is not None:
            if event[0] != "headers":
                continue
            name, filename = _disposition(event[1].get("content-disposition", ""))
            if filename is None:
                self.fields[name] = (await self._read_field()).decode("utf-8", "replace")
                continue
            return IncomingFile(name=filename, media_type=event[1].get("content-type"), chunks=self._chunks())
        return None

    async def _chunks(self) -> AsyncIterator[bytes]:
        while (event := await self._next_event()) is not None and event[0] != "end":
            if event[0] == "data":
                yield event[1]

    async def _read_field(self) -> bytes:
        value = b""
        async for chunk in self._chunks():
            value += chunk
            if len(value) > MAX_FIELD_BYTES:
                raise InvalidInputError("form field too large", loc=("body",))
        return value


def _disposition(header: str) -> tuple[str, str | None]:
    """(field name, file name or None) from a Content-Disposition header."""
    _, params = parse_options_header(header)
    name = params.get(b"name", b"").decode("utf-8", "replace")
    if b"filename*" in params:
        raw = params[b"filename*"].decode("utf-8", "replace")
        return name, collapse_rfc2231_value(decode_rfc2231(raw))
    filename = params.get(b"filename")
    if filename is None:
        return name, None
    return name, _safe_name(filename.decode("utf-8", "replace"))


def _safe_name(filename: str) -> str:
    """Keep the last path component: a name, never a path."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base or "upload"
