"""The engine port. The API and services talk only to this; everything else is read from the database."""

from __future__ import annotations

from typing import Protocol


class Engine(Protocol):
    async def start(self) -> None:
        """Begin serving runs (recover what a previous process left behind)."""

    async def stop(self) -> None:
        """Stop taking work; in-flight items keep their leases and are recovered later."""

    async def start_run(self, run_id: str) -> None:
        """A new run (or a reopened one) is waiting in the database."""

    async def cancel(self, run_id: str) -> None:
        """Pending items never start, running ones are stopped, the run ends CANCELLED."""

    async def retry_failed(self, run_id: str) -> int:
        """Put the run's FAILED items back to PENDING; returns how many."""

    async def resume(self, run_id: str) -> int:
        """Put a cancelled run's CANCELLED items back to PENDING and run it again; returns how many."""

    async def recover(self) -> int:
        """Return items whose lease expired to PENDING; returns how many."""
