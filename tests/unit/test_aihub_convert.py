"""AI Hub wire conversions: field names as AI Hub makes them, the run-status table, JSON outputs as fields."""

from __future__ import annotations

import pytest

from conveyor.api.aihub import convert
from conveyor.domain.status import RunStatus


@pytest.mark.parametrize(("raw", "expected"), [
    ("due date", "due_date"), ("driver's license", "driver_s_license"), ("3rd category", "_3rd_category"),
    ("secret_id", "secret__id"), ("markdown", "markdown"), ("_private", "__private"),
])
def test_field_names_follow_ai_hub(raw: str, expected: str) -> None:
    assert convert.field_name(raw) == expected


def test_every_core_status_has_an_ai_hub_status() -> None:
    assert {s: convert.STATUS[s] for s in RunStatus} == {
        RunStatus.PENDING: "RUNNING", RunStatus.RUNNING: "RUNNING", RunStatus.THROTTLED: "RUNNING",
        RunStatus.COMPLETED: "COMPLETE", RunStatus.FAILED: "FAILED", RunStatus.CANCELLED: "CANCELLED"}
    assert set(convert.core_statuses(["running"])) == {"PENDING", "RUNNING", "THROTTLED"}
    assert convert.core_statuses(["PAUSED", "STOPPED_AT_CHECKPOINT"]) == ()


def test_json_outputs_become_fields() -> None:
    fields = convert.json_fields("fields", {"total due": 12.5, "paid": False, "lines": [1, 2], "who": "Ann"})
    assert [(f.field_name, f.value, f.type) for f in fields] == [
        ("total_due", "12.5", "NUMBER"), ("paid", "false", "BOOLEAN"), ("lines", "[1, 2]", "LIST"),
        ("who", "Ann", "TEXT")]
    (single,) = convert.json_fields("pages", [{"page": 1, "text": "a"}])
    assert single.field_name == "pages" and single.type == "LIST"
    assert convert.page_numbers([{"page": 1, "text": "a"}, {"page": 2, "text": "b"}]) == [1, 2]
    assert convert.page_numbers({"page": 1}) is None and convert.page_numbers([]) is None
