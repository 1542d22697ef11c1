"""Pure rules: ids, statuses, filters, cron and regex validation, backoff."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime

import pytest

from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import ElementFilter, kebab_case, next_fire, validate_cron, validate_regex
from conveyor.domain.status import ItemStatus, RunStatus, can_move_item, can_move_run
from conveyor.engine.backoff import CAP_SECONDS, retry_delay
from conveyor.errors import InvalidInputError


def test_ids_carry_their_kind_and_sort_by_creation() -> None:
    first = new_id(Kind.RUN)
    time.sleep(0.002)
    second = new_id(Kind.RUN)
    assert re.fullmatch(r"bx_[0-9a-z]{26}", first)
    assert first < second
    assert len({new_id(Kind.ELEMENT) for _ in range(1000)}) == 1000


def test_terminal_statuses() -> None:
    assert {s for s in RunStatus if s.terminal} == {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}
    assert {s for s in ItemStatus if s.terminal} == {ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.CANCELLED}


@pytest.mark.parametrize(("old", "new", "allowed"), [
    (ItemStatus.PENDING, ItemStatus.RUNNING, True),
    (ItemStatus.RUNNING, ItemStatus.PENDING, True),
    (ItemStatus.FAILED, ItemStatus.PENDING, True),
    (ItemStatus.SUCCEEDED, ItemStatus.PENDING, False),
    (ItemStatus.SUCCEEDED, ItemStatus.FAILED, False),
    (ItemStatus.PENDING, ItemStatus.SUCCEEDED, False),
])
def test_item_transitions(old: ItemStatus, new: ItemStatus, allowed: bool) -> None:
    assert can_move_item(old, new) is allowed


def test_run_transitions() -> None:
    assert can_move_run(RunStatus.PENDING, RunStatus.RUNNING)
    assert can_move_run(RunStatus.COMPLETED, RunStatus.RUNNING), "retry-failed reopens a completed run"
    assert not can_move_run(RunStatus.COMPLETED, RunStatus.CANCELLED)
    assert not can_move_run(RunStatus.RUNNING, RunStatus.PENDING)


def test_filter_matching_and_round_trip() -> None:
    f = ElementFilter(regex=r"\.pdf$", media_types=("application/*",), element_ids=("el_1", "el_2"))
    assert f.matches("a.pdf", "application/pdf", "el_1")
    assert not f.matches("a.pdf", "application/pdf", "el_3")
    assert not f.matches("a.txt", "application/pdf", "el_1")
    assert not f.matches("a.pdf", "text/plain", "el_1")
    assert ElementFilter.from_json(f.to_json()) == f
    assert ElementFilter().to_json() is None and ElementFilter.from_json(None) == ElementFilter()


@pytest.mark.parametrize("pattern", ["([", "*a", "(?P<x"])
def test_invalid_regex_is_an_input_error(pattern: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        validate_regex(pattern, ("body", "filters", "regex"))
    assert error.value.loc == ("body", "filters", "regex")


@pytest.mark.parametrize("expression", ["0 * * * *", "*/5 * * * * 30", "@daily"])
def test_valid_cron(expression: str) -> None:
    assert validate_cron(expression, ("body",)) == expression


@pytest.mark.parametrize("expression", ["not a cron", "61 * * * *", "* * *"])
def test_invalid_cron(expression: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid cron"):
        validate_cron(expression, ("body", "recurrence_cron"))


def test_next_fire() -> None:
    assert next_fire("0 * * * *", datetime(2026, 1, 1, 10, 30, tzinfo=UTC)) == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)


def test_kebab_case() -> None:
    assert kebab_case("Invoice Extractor 2") == "invoice-extractor-2"
    assert kebab_case("  !!  ") == "unnamed"


def test_backoff_is_full_jitter_doubling_to_a_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)]:
        delays = [retry_delay(attempt, rng=rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8, "full jitter spreads over the whole range"
    assert CAP_SECONDS == 60


def test_backoff_honours_retry_after() -> None:
    assert retry_delay(1, retry_after=30) == 30
    assert retry_delay(1, retry_after=0.0) >= 0
