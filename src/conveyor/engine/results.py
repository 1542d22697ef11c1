"""Batches item results into few transactions: SQLite and PostgreSQL commit thousands of rows per second
when they arrive together, and only hundreds when each commits alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from conveyor.store.runs import ItemResult, ItemsRepo

log = logging.getLogger("conveyor.engine")
MAX_BATCH = 1000
GATHER_SECONDS = 0.005
RETRY_SECONDS = 0.5


class ResultWriter:
    """``submit`` queues a result; a background task applies queued results together; ``flush`` waits
    until everything submitted so far is in the database."""

    def __init__(self, items: ItemsRepo) -> None:
        self._items = items
        self._queue: list[ItemResult] = []
        self._unapplied: Counter[str] = Counter()
        self._submitted = 0
        self._applied = 0
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._drain_forever(), name="conveyor-results")

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def submit(self, result: ItemResult) -> None:
        self._queue.append(result)
        self._unapplied[result.run_id] += 1
        self._submitted += 1
        self._wake.set()

    def unapplied(self, run_id: str) -> int:
        """Results of the run submitted but not yet in the database (their items still count as RUNNING)."""
        return self._unapplied[run_id]

    async def flush(self) -> None:
        target = self._submitted
        if self._applied >= target:
            return
        self._wake.set()
        async with self._progress:
            await self._progress.wait_for(lambda: self._applied >= target)

    async def _drain_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if len(self._queue) < MAX_BATCH:
                await asyncio.sleep(GATHER_SECONDS)  # let a burst of results arrive together
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._apply(batch)

    async def _apply(self, batch: list[ItemResult]) -> None:
        while True:
            try:
                await self._items.apply(batch)
                break
            except Exception:  # the database may be briefly unavailable: keep the batch, try again
                log.exception("recording %d item results failed; retrying", len(batch))
                await asyncio.sleep(RETRY_SECONDS)
        for result in batch:
            self._unapplied[result.run_id] -= 1
        async with self._progress:
            self._applied += len(batch)
            self._progress.notify_all()
