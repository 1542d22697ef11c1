"""Request-size limits that protect the server: JSON and form bodies are capped; uploads are limited
per file while they stream (see ``blobs``): multipart forms, and the raw-body routes a face names."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    """Answers 413 for a body larger than ``limit`` bytes, declared or streamed, unless it is a multipart
    form or ``streamed(scope)`` says the route streams its body to storage (with its own limit)."""

    def __init__(self, app: ASGIApp, limit: int, streamed: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exempt = scope["type"] == "http" and self.streamed is not None and self.streamed(scope)
        if scope["type"] != "http" or _is_multipart(scope) or exempt:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._reject(send)
            return
        messages: list[Message] = []
        seen = 0
        while True:  # buffer the (capped) body so an overflow is answered before the app runs
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await self._reject(send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _is_multipart(scope: Scope) -> bool:
    return (_header(scope, b"content-type") or b"").lower().startswith(b"multipart/form-data")


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
