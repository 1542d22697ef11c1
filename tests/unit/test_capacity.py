"""Server-wide capacity: fair shares between runs, no starvation of a late small run."""

from __future__ import annotations

from conveyor.engine.capacity import Capacity


def test_a_lone_run_may_use_everything() -> None:
    capacity = Capacity(8)
    assert capacity.acquire("a", 20) == 8
    assert capacity.acquire("a", 5) == 0
    capacity.release("a", 3)
    assert capacity.acquire("a", 5) == 3


def test_a_late_run_gets_its_share_as_slots_free_up() -> None:
    capacity = Capacity(8)
    assert capacity.acquire("big", 100) == 8
    woken: list[str] = []
    assert capacity.acquire("small", 4, wake=lambda: woken.append("small")) == 0
    capacity.release("big", 1)
    assert woken == ["small"], "a waiting run is woken when slots free up"
    assert capacity.acquire("big", 93) == 0, "the freed slot is reserved for the run below its share"
    assert capacity.acquire("small", 4) == 1
    capacity.release("big", 3)
    assert capacity.acquire("big", 95) == 0
    assert capacity.acquire("small", 3) == 3
    assert capacity.held("small") == 4 and capacity.held("big") == 4


def test_unused_share_is_not_reserved() -> None:
    capacity = Capacity(8)
    assert capacity.acquire("a", 2) == 2
    capacity.acquire("a", 0)  # a has all it wants
    assert capacity.acquire("b", 10) == 6


def test_forget_returns_every_slot() -> None:
    capacity = Capacity(4)
    capacity.acquire("a", 4)
    capacity.forget("a")
    assert capacity.in_use == 0 and capacity.acquire("b", 4) == 4
