"""Core rows → AI Hub wire shapes, and the run-status mapping.

| Conveyor run status          | AI Hub run status |
|------------------------------|-------------------|
| PENDING, RUNNING, THROTTLED  | RUNNING           |
| COMPLETED (whatever failed)  | COMPLETE          |
| FAILED                       | FAILED            |
| CANCELLED                    | CANCELLED         |
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from conveyor.api.aihub import schemas as w
from conveyor.domain.status import RunStatus
from conveyor.store.models import Container, Element, Item, Run

STATUS: dict[RunStatus, str] = {
    RunStatus.PENDING: "RUNNING", RunStatus.RUNNING: "RUNNING", RunStatus.THROTTLED: "RUNNING",
    RunStatus.COMPLETED: "COMPLETE", RunStatus.FAILED: "FAILED", RunStatus.CANCELLED: "CANCELLED",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def core_statuses(aihub_statuses: list[str]) -> tuple[str, ...]:
    """The core statuses that show as any of ``aihub_statuses`` (the table above, read backwards)."""
    wanted = {s.upper() for s in aihub_statuses}
    return tuple(core.value for core, shown in STATUS.items() if shown in wanted)


def millis(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)


def nanos(value: datetime | None) -> int | None:
    return None if value is None else (value - EPOCH) // timedelta(microseconds=1) * 1000


def batch_info(batch_id: int, c: Container) -> w.BatchInfo:
    workspace = (c.extra.get("aihub") or {}).get("workspace")
    return w.BatchInfo(id=batch_id, name=c.name, workspace=workspace, batch_owner="api",
                       created_at_ms=millis(c.created_at), updated_at_ms=millis(c.updated_at))


def file_path(batch_id: int | None, name: str) -> str:
    return f"batches/{batch_id}/{name}" if batch_id is not None else name


def file_node(batch_id: int, e: Element) -> w.FileNode:
    return w.FileNode(full_path=file_path(batch_id, e.name), name=e.name, metadata=w.FileMetadata(
        size=e.size, modified_timestamp=int(e.updated_at.timestamp())))


def run_message(run: Run) -> str:
    if run.error:
        return run.error
    return f"{run.succeeded} of {run.total_items} files succeeded, {run.failed} failed, {run.cancelled} cancelled"


def run(r: Run) -> w.Run:
    return w.Run(id=r.id, status=STATUS[RunStatus(r.status)], start_timestamp=nanos(r.start_time),
                 finish_timestamp=nanos(r.end_time), msg=run_message(r))


def field_name(raw: str) -> str:
    """AI Hub's field names: underscores doubled, other invalid characters made underscores, and an
    underscore in front of a name that does not start with a letter or underscore."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", raw.replace("_", "__"))
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def text_field(name: str, text: str) -> w.DocumentField:
    return w.DocumentField(field_name=field_name(name), value=text, type="TEXT")


def json_fields(name: str, value: Any) -> list[w.DocumentField]:
    """A JSON object gives one field per key; any other JSON value one field named after the output."""
    if isinstance(value, dict):
        return [w.DocumentField(field_name=field_name(str(k)), value=_text(v), type=_type(v)) for k, v in value.items()]
    return [w.DocumentField(field_name=field_name(name), value=_text(value), type=_type(value))]


def page_numbers(value: Any) -> list[int] | None:
    """Page numbers from a per-page JSON output (``[{"page": 1, ...}, ...]``), if that is what it is."""
    if isinstance(value, list) and value and all(isinstance(p, dict) and isinstance(p.get("page"), int)
                                                 for p in value):
        return [int(p["page"]) for p in value]
    return None


def failed_document(item: Item) -> w.Document:
    return w.Document(fields=[w.DocumentField(field_name="text", value="ERROR", type="TEXT",
                                              error_msg=item.error or f"the file's status is {item.status}")])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMBER"
    if isinstance(value, list):
        return "LIST"
    return "DICT" if isinstance(value, dict) else "TEXT"


def webhook_body(event: str, snapshot: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The body POSTed to a run's ``webhook_config.url`` when it ends (a renderer of the outbox)."""
    status = STATUS[RunStatus(snapshot["status"])]
    start, end = snapshot.get("start_time"), snapshot.get("end_time")
    return {"event": event, "run_id": snapshot["run_id"], "status": status, "app_name": context.get("app_name"),
            "batch_id": context.get("batch_id"),
            "start_timestamp": nanos(datetime.fromisoformat(start)) if start else None,
            "finish_timestamp": nanos(datetime.fromisoformat(end)) if end else None,
            "total_files": snapshot.get("total_items"), "succeeded": snapshot.get("succeeded"),
            "failed": snapshot.get("failed"), "cancelled": snapshot.get("cancelled"), "msg": snapshot.get("error")}
