"""The server-wide limit on items in flight, shared fairly by the runs that want it.

Each run asking for slots may always reach its fair share (total / runs wanting); slots another run
could still claim within its share are reserved for it, so a big run started first cannot starve a
small one started later. When a run gives slots back, the runs left waiting are woken.
"""

from __future__ import annotations

from collections.abc import Callable


class Capacity:
    def __init__(self, total: int) -> None:
        self.total = total
        self.in_use = 0
        self._held: dict[str, int] = {}
        self._wanting: dict[str, int] = {}
        self._waiters: dict[str, Callable[[], None]] = {}

    def acquire(self, run_id: str, wanted: int, wake: Callable[[], None] | None = None) -> int:
        """Take up to ``wanted`` slots for ``run_id`` now; returns how many were granted (maybe 0)."""
        self._wanting[run_id] = wanted
        contenders = {r for r, n in self._wanting.items() if n > 0} | {r for r, n in self._held.items() if n > 0}
        share = max(1, self.total // max(1, len(contenders)))
        reserved = sum(max(0, min(self._wanting.get(o, 0), share - self._held.get(o, 0)))
                       for o in contenders if o != run_id)
        granted = max(0, min(wanted, self.total - self.in_use - reserved))
        self._held[run_id] = self._held.get(run_id, 0) + granted
        self.in_use += granted
        self._wanting[run_id] = wanted - granted
        if wake is not None and granted < wanted:
            self._waiters[run_id] = wake
        return granted

    def release(self, run_id: str, count: int) -> None:
        if count <= 0:
            return
        self._held[run_id] = max(0, self._held.get(run_id, 0) - count)
        self.in_use = max(0, self.in_use - count)
        for waiting, wake in list(self._waiters.items()):
            if waiting != run_id:
                wake()

    def forget(self, run_id: str) -> None:
        """The run stopped wanting slots (finished, cancelled or stopped)."""
        self.release(run_id, self._held.pop(run_id, 0))
        self._wanting.pop(run_id, None)
        self._waiters.pop(run_id, None)

    def held(self, run_id: str) -> int:
        return self._held.get(run_id, 0)
