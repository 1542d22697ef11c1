"""The server-wide limit on items in flight, shared by all runs."""

from __future__ import annotations


class Capacity:
    def __init__(self, total: int) -> None:
        self.total = total
        self.in_use = 0

    def acquire(self, wanted: int) -> int:
        """Take up to ``wanted`` slots now; returns how many were granted (maybe 0)."""
        granted = max(0, min(wanted, self.total - self.in_use))
        self.in_use += granted
        return granted

    def release(self, count: int) -> None:
        self.in_use = max(0, self.in_use - count)
