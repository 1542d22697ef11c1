"""Batch webhooks: ``webhook_configurations`` become subscriptions to the run in the shared outbox, and
the outbox renders each delivery with :func:`body` (format ``llamacloud``, signed in ``LC-Signature``).

A run's events map to batch events: created → ``batch.pending``, started (running, or throttled while it
waits for capacity) → ``batch.running``, COMPLETED → ``batch.success``, FAILED → ``batch.error``, CANCELLED
→ ``batch.cancelled``. The body carries the event type, the batch's status and the batch as ``data``.
"""

from __future__ import annotations

from typing import Any

from conveyor.api.llamacloud import schemas as w
from conveyor.errors import InvalidInputError
from conveyor.store.webhooks import WebhookTarget

FORMAT = "llamacloud"
SIGNATURE_HEADER = "LC-Signature"
BATCH_EVENT = {"run.pending": "batch.pending", "run.running": "batch.running", "run.throttled": "batch.running",
               "run.completed": "batch.success", "run.failed": "batch.error", "run.cancelled": "batch.cancelled"}


def run_events(batch_events: list[str] | None) -> tuple[str, ...]:
    """The run events behind the batch events asked for (all of them when none are named)."""
    return tuple(run for run, batch in BATCH_EVENT.items() if batch_events is None or batch in batch_events)


def targets(body: w.BatchCreate, context: dict[str, Any]) -> list[WebhookTarget]:
    """The outbox subscriptions for a batch's inline webhook configurations."""
    if body.webhook_configuration_ids:
        raise InvalidInputError("saved webhook configurations are not supported here: pass webhook_configurations",
                                loc=("body", "webhook_configuration_ids"))
    found = []
    for index, config in enumerate(body.webhook_configurations or ()):
        if not config.webhook_url:
            raise InvalidInputError("webhook_url is required", loc=("body", "webhook_configurations", index,
                                                                     "webhook_url"))
        found.append(WebhookTarget(url=config.webhook_url, format=FORMAT, headers=dict(config.webhook_headers or {}),
                                   secret=config.webhook_signing_secret, context=context,
                                   events=run_events(config.webhook_events)))
    return found


def body(event: str, snapshot: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """One delivery's JSON: the batch as it was when the event happened."""
    batch = w.Batch(id=context["batch_id"], config=w.BatchConfig.model_validate(context["config"]),
                    project_id=context["project_id"], source_directory_id=context["source_directory_id"],
                    status=snapshot["status"], created_at=snapshot.get("start_time"),
                    updated_at=snapshot.get("updated_at") or snapshot.get("end_time") or snapshot.get("start_time"))
    event_type = BATCH_EVENT.get(event, event)
    return {"event_type": event_type, "batch_id": batch.id, "status": batch.status,
            "data": batch.model_dump(mode="json")}
