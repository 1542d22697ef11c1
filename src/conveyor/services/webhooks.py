"""Delivers the webhook outbox (``webhook_deliveries``) from a background task of the server.

Each delivery is a JSON POST. Its body is rendered once, by the renderer of the face that subscribed
(``format``), from the snapshot taken when the event happened, and stored, so every attempt sends the
same bytes. With a secret the body is signed: ``X-Conveyor-Signature: sha256=<hex HMAC-SHA256 of the
body>`` (a face may name its own header for its format). A 2xx answer marks the delivery done and it
is never sent again; anything else is retried with exponential backoff and full jitter (1 s, ×2,
capped at 10 min, or the receiver's ``Retry-After`` if longer) until ``max_attempts``, after which the
delivery is marked failed. Several servers may share the outbox: an attempt first claims its row, so
each attempt is made by one server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from conveyor.engine.backoff import parse_retry_after, retry_delay
from conveyor.services.background import Periodic
from conveyor.store.models import WebhookDelivery
from conveyor.store.types import utcnow
from conveyor.store.webhooks import DELIVERED, FAILED, WebhooksRepo

log = logging.getLogger("conveyor.webhooks")
SIGNATURE_HEADER = "X-Conveyor-Signature"
PASS_SECONDS = 0.5
BATCH = 50
TIMEOUT_SECONDS = 10.0
CLAIM = timedelta(seconds=60)
BACKOFF_CAP_SECONDS = 600.0

Renderer = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]
"""``renderer(event, snapshot, context)`` → the JSON body of one delivery in a face's wire shape."""


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def generic_body(event: str, snapshot: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, **snapshot, "context": context}


class WebhookDeliverer:
    def __init__(self, deliveries: WebhooksRepo, *, max_attempts: int,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._deliveries = deliveries
        self._max_attempts = max_attempts
        self._renderers: dict[str, Renderer] = {"generic": generic_body}
        self._signature_headers: dict[str, str] = {}
        self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, transport=transport, follow_redirects=False)
        self._loop = Periodic("webhooks", PASS_SECONDS, self.deliver_due)

    def register(self, format_name: str, renderer: Renderer, signature_header: str = SIGNATURE_HEADER) -> None:
        """Make ``format_name`` subscriptions render their bodies with ``renderer`` and sign them in
        ``signature_header``."""
        self._renderers[format_name] = renderer
        self._signature_headers[format_name] = signature_header

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        self._loop.wake()

    async def close(self) -> None:
        await self._loop.stop()
        await self._client.aclose()

    async def deliver_due(self) -> int:
        """One pass: attempt every due delivery this process can claim; returns how many it attempted."""
        attempted = 0
        for delivery in await self._deliveries.due(utcnow(), BATCH):
            if self._loop.stopping:
                break
            if await self._deliveries.claim(delivery, utcnow() + CLAIM):
                await self._attempt(delivery)
                attempted += 1
        return attempted

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        body = delivery.body if delivery.body is not None else self._render(delivery)
        attempts = delivery.attempts + 1
        error, retry_after = await self._post(delivery, body.encode())
        if error is None:
            await self._deliveries.set(delivery.id, status=DELIVERED, attempts=attempts, body=body,
                                       delivered_at=utcnow(), last_error=None)
            return
        if attempts >= self._max_attempts:
            log.warning("webhook %d to %s failed for good after %d attempts: %s", delivery.id, delivery.url,
                        attempts, error)
            await self._deliveries.set(delivery.id, status=FAILED, attempts=attempts, body=body, last_error=error)
            return
        delay = retry_delay(attempts, retry_after, cap=BACKOFF_CAP_SECONDS)
        await self._deliveries.set(delivery.id, attempts=attempts, body=body, last_error=error,
                                   next_attempt_at=utcnow() + timedelta(seconds=delay))

    def _render(self, delivery: WebhookDelivery) -> str:
        renderer = self._renderers.get(delivery.format, generic_body)
        return json.dumps(renderer(delivery.event, delivery.payload, delivery.context), separators=(",", ":"))

    async def _post(self, delivery: WebhookDelivery, body: bytes) -> tuple[str | None, float | None]:
        """(None, None) on a 2xx; else a reason and the receiver's Retry-After seconds, if it gave one.

        The whole attempt gets :data:`TIMEOUT_SECONDS` (a receiver trickling its answer cannot hold the
        deliverer), and the answer's body is never read.
        """
        header = self._signature_headers.get(delivery.format, SIGNATURE_HEADER)
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS), self._client.stream(
                    "POST", delivery.url, content=body, headers=headers_for(delivery, body, header)) as response:
                status, wait = response.status_code, parse_retry_after(response.headers.get("retry-after"))
        except TimeoutError:
            return f"no answer within {TIMEOUT_SECONDS:g} s", None
        except Exception as e:  # URLs and headers come from callers: any failure to send is a failed attempt
            return f"{type(e).__name__}: {e}", None
        return (None, None) if 200 <= status < 300 else (f"HTTP {status}", wait)


def headers_for(delivery: WebhookDelivery, body: bytes, signature_header: str = SIGNATURE_HEADER) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in delivery.headers.items()}
    headers.update({"Content-Type": "application/json", "User-Agent": "conveyor-webhooks",
                    "X-Conveyor-Event": delivery.event, "X-Conveyor-Delivery": str(delivery.id)})
    if delivery.secret:
        headers[signature_header] = sign(delivery.secret, body)
    return headers
