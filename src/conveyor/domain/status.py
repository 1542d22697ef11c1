"""Run and item statuses and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    THROTTLED = "THROTTLED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL_RUN


class ItemStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL_ITEM


_TERMINAL_RUN = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
_TERMINAL_ITEM = frozenset({ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.CANCELLED})

RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.PENDING: frozenset({RunStatus.RUNNING, RunStatus.THROTTLED, RunStatus.COMPLETED,
                                  RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset({RunStatus.THROTTLED, RunStatus.COMPLETED, RunStatus.FAILED,
                                  RunStatus.CANCELLED}),
    RunStatus.THROTTLED: frozenset({RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.FAILED,
                                    RunStatus.CANCELLED}),
    # retry-failed reopens a finished run
    RunStatus.COMPLETED: frozenset({RunStatus.RUNNING}),
    RunStatus.FAILED: frozenset({RunStatus.RUNNING}),
    RunStatus.CANCELLED: frozenset({RunStatus.RUNNING}),
}

ITEM_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.PENDING: frozenset({ItemStatus.RUNNING, ItemStatus.CANCELLED, ItemStatus.FAILED}),
    # back to PENDING: a retryable failure or an expired lease
    ItemStatus.RUNNING: frozenset({ItemStatus.PENDING, ItemStatus.SUCCEEDED, ItemStatus.FAILED,
                                   ItemStatus.CANCELLED}),
    ItemStatus.FAILED: frozenset({ItemStatus.PENDING}),  # retry-failed
    ItemStatus.CANCELLED: frozenset({ItemStatus.PENDING}),  # retry of a cancelled run
    ItemStatus.SUCCEEDED: frozenset(),
}


def can_move_run(old: RunStatus, new: RunStatus) -> bool:
    return new in RUN_TRANSITIONS[old]


def can_move_item(old: ItemStatus, new: ItemStatus) -> bool:
    return new in ITEM_TRANSITIONS[old]


def allowed_sources(new: RunStatus) -> frozenset[RunStatus]:
    """The run statuses from which ``new`` may be reached."""
    return frozenset(old for old, targets in RUN_TRANSITIONS.items() if new in targets)


def require_item_move(old: ItemStatus, new: ItemStatus) -> None:
    """Guard for code that moves items in bulk: the move must be one the state machine allows."""
    if not can_move_item(old, new):
        raise ValueError(f"items cannot move from {old} to {new}")
