"""A task that runs one pass of some work every few seconds for the life of the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("conveyor.background")


STOP_GRACE_SECONDS = 10.0


async def finish_or_cancel(tasks: set[asyncio.Task[None]], grace: float) -> None:
    """Let ``tasks`` finish for up to ``grace`` seconds, then cancel what is left.

    Work in the middle of a database write is not cancelled if it can finish: a statement cancelled while
    SQLite runs it can leave the connection holding the write lock.
    """
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


class Periodic:
    """Calls ``work`` every ``interval`` seconds (sooner after ``wake()``); a failing pass is logged and the
    next one runs as usual. ``stop()`` lets a pass under way finish (up to a grace period)."""

    def __init__(self, name: str, interval: float, work: Callable[[], Awaitable[object]]) -> None:
        self._name = name
        self._interval = interval
        self._work = work
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"conveyor-{self._name}")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        self.stopping = True
        self._wake.set()
        if self._task is not None:
            await finish_or_cancel({self._task}, grace)
            self._task = None

    async def _loop(self) -> None:
        while not self.stopping:
            try:
                await self._work()
            except Exception:
                log.exception("%s pass failed", self._name)
            if self.stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
