"""The webhook outbox: subscriptions per subject, and the deliveries their events produce.

A delivery row is written by :func:`enqueue` inside the transaction that makes the event happen (a run
created, started, or reaching a terminal state), so an event is never lost nor reported without having
happened. A subscription names the events it wants; by default, the subject's end only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.store.database import Database
from conveyor.store.models import WebhookDelivery, WebhookSubscription
from conveyor.store.types import utcnow

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
END_EVENTS = ("run.completed", "run.failed", "run.cancelled")
RUN_EVENTS = ("run.pending", "run.running", "run.throttled", *END_EVENTS)


@dataclass(frozen=True)
class WebhookTarget:
    """Where to send a subject's events and how: ``format`` names the face whose wire shape the body
    takes, ``context`` carries what that face needs to render it (its own ids, say)."""

    url: str
    format: str = "generic"
    headers: dict[str, str] = field(default_factory=dict)
    secret: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    events: tuple[str, ...] | None = None  # of RUN_EVENTS; None: the run's end only (END_EVENTS)


def wants(subscription: WebhookSubscription, event: str) -> bool:
    wanted = subscription.events if subscription.events is not None else END_EVENTS
    return event in wanted


async def enqueue(s: AsyncSession, subject_id: str, event: str, payload: dict[str, Any]) -> int:
    """One delivery per subscription of ``subject_id``, in the caller's transaction; returns how many."""
    subscriptions = [sub for sub in await s.scalars(
        select(WebhookSubscription).where(WebhookSubscription.subject_id == subject_id)) if wants(sub, event)]
    now = utcnow()
    for sub in subscriptions:
        s.add(WebhookDelivery(
            project_id=sub.project_id, subject_id=subject_id, event=event, url=sub.url, headers=sub.headers,
            secret=sub.secret, format=sub.format, context=sub.context, payload=payload, body=None,
            status=PENDING, attempts=0, next_attempt_at=now, last_error=None, created_at=now,
            delivered_at=None))
    return len(subscriptions)


class WebhooksRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        stmt = (select(WebhookDelivery).where(WebhookDelivery.status == PENDING,
                                              WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
        async with self._db.read() as s:
            return list(await s.scalars(stmt))

    async def claim(self, delivery: WebhookDelivery, lease_until: datetime) -> bool:
        """Take the delivery for one attempt by moving its next attempt past the attempt's lease; only
        one process's update matches the time it read, so one process sends it."""
        async with self._db.write() as s:
            result = await s.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == delivery.id, WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at == delivery.next_attempt_at).values(next_attempt_at=lease_until))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set(self, delivery_id: int, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))

    async def for_subject(self, subject_id: str) -> list[WebhookDelivery]:
        async with self._db.read() as s:
            stmt = select(WebhookDelivery).where(WebhookDelivery.subject_id == subject_id).order_by(WebhookDelivery.id)
            return list(await s.scalars(stmt))


def subscriptions_for(project_id: str, subject_id: str,
                      targets: Sequence[WebhookTarget]) -> list[WebhookSubscription]:
    now = utcnow()
    return [WebhookSubscription(project_id=project_id, subject_id=subject_id, url=t.url, headers=dict(t.headers),
                                secret=t.secret, format=t.format, context=dict(t.context),
                                events=list(t.events) if t.events is not None else None, created_at=now)
            for t in targets]


async def drop_subscriptions(s: AsyncSession, subject_id: str) -> None:
    await s.execute(delete(WebhookSubscription).where(WebhookSubscription.subject_id == subject_id))
