"""The local engine: asyncio in the server process, durable through the database.

A supervisor keeps one :class:`RunWorker` per active run, heartbeats the leases of in-flight items and
returns expired leases to PENDING. Each worker claims due items up to its run's ``concurrency`` and the
server-wide capacity, runs them, and closes the run when every item is terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta

from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.engine.capacity import Capacity
from conveyor.engine.item_runner import ItemRunner, RunContext
from conveyor.engine.options import item_timeout, processor_options
from conveyor.settings import Settings
from conveyor.store.models import Item, Recipe
from conveyor.store.runs import ACTIVE_RUN_STATUSES, ItemsRepo, RunsRepo
from conveyor.store.types import utcnow
from conveyor.store.versioned import VersionedRepo

log = logging.getLogger("conveyor.engine")
IDLE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Shared:
    """What the engine and its run workers share."""

    runs: RunsRepo
    items: ItemsRepo
    runner: ItemRunner
    capacity: Capacity
    settings: Settings


class LocalEngine:
    def __init__(self, *, runs: RunsRepo, items: ItemsRepo, recipes: VersionedRepo[Recipe],
                 runner: ItemRunner, settings: Settings) -> None:
        self._runs = runs
        self._items = items
        self._recipes = recipes
        self._runner = runner
        self._settings = settings
        self._shared = Shared(runs, items, runner, Capacity(settings.max_workers), settings)
        self._workers: dict[str, RunWorker] = {}
        self._cancelling: set[str] = set()
        self._wake = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def owner(self) -> str:
        return self._runner.owner

    async def start(self) -> None:
        await self.recover()
        self._supervisor = asyncio.create_task(self._supervise(), name="conveyor-engine")

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for worker in list(self._workers.values()):
            await worker.stop(release=True)
        self._workers.clear()

    async def start_run(self, run_id: str) -> None:
        self._wake.set()

    async def cancel(self, run_id: str) -> None:
        self._cancelling.add(run_id)
        try:
            worker = self._workers.pop(run_id, None)
            if worker is not None:
                await worker.stop(release=False)
            await self._items.cancel_pending(run_id)
            await self._items.cancel_running(run_id)
            await self._runs.set_status(run_id, RunStatus.CANCELLED, ACTIVE_RUN_STATUSES, end_time=utcnow())
        finally:
            self._cancelling.discard(run_id)

    async def retry_failed(self, run_id: str) -> int:
        return await self._reopen(run_id, ItemStatus.FAILED)

    async def resume(self, run_id: str) -> int:
        return await self._reopen(run_id, ItemStatus.CANCELLED)

    async def _reopen(self, run_id: str, status: ItemStatus) -> int:
        reopened = await self._items.reopen(run_id, [status])
        if reopened:
            await self._runs.set_status(run_id, RunStatus.RUNNING,
                                        [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED,
                                         *ACTIVE_RUN_STATUSES])
            self._wake.set()
        return reopened

    async def recover(self) -> int:
        recovered = await self._items.recover_expired()
        if recovered:
            log.info("returned %d items with expired leases to PENDING", recovered)
        return recovered

    async def _supervise(self) -> None:
        heartbeat_every = self._settings.lease_seconds / 3
        last_beat = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._adopt_active_runs()
                if loop.time() - last_beat >= heartbeat_every:
                    await self._heartbeat()
                    await self.recover()
                    last_beat = loop.time()
            except Exception:  # the supervisor must outlive any one bad pass
                log.exception("engine supervisor pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_POLL_SECONDS)
            self._wake.clear()

    async def _adopt_active_runs(self) -> None:
        for run_id in [r for r, w in self._workers.items() if w.done]:
            self._workers.pop(run_id)
        for run in await self._runs.active():
            if run.id in self._workers or run.id in self._cancelling:
                continue
            recipe = await self._recipes.get(run.project_id, run.recipe_id, include_deleted=True)
            if recipe is None:
                await self._runs.set_status(run.id, RunStatus.FAILED, ACTIVE_RUN_STATUSES,
                                            error="the run's batch definition no longer exists",
                                            end_time=utcnow())
                continue
            ctx = RunContext(run=run, recipe=recipe, options=processor_options(recipe),
                             timeout=item_timeout(recipe, self._settings.item_timeout_seconds))
            self._workers[run.id] = RunWorker(ctx, self._shared)

    async def _heartbeat(self) -> None:
        until = utcnow() + timedelta(seconds=self._settings.lease_seconds)
        ids = [item_id for w in self._workers.values() for item_id in w.inflight_ids]
        if ids:
            await self._items.heartbeat(self.owner, ids, until)


class RunWorker:
    """Drives one run: claim, execute, repeat; closes the run when nothing is left."""

    def __init__(self, ctx: RunContext, shared: Shared) -> None:
        self._ctx = ctx
        self._shared = shared
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._main(), name=f"run-{ctx.run.id}")

    @property
    def done(self) -> bool:
        return self._task.done()

    @property
    def inflight_ids(self) -> list[int]:
        return list(self._inflight)

    async def stop(self, *, release: bool) -> None:
        """Stop claiming and cancel in-flight items; ``release`` hands them back as PENDING."""
        self._stopping = True
        ids = list(self._inflight)
        for task in self._inflight.values():
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if release and ids:
            await self._shared.items.release(self._shared.runner.owner, ids)

    async def _main(self) -> None:
        run = self._ctx.run
        await self._shared.runs.set_status(run.id, RunStatus.RUNNING, [RunStatus.PENDING, RunStatus.THROTTLED])
        while not self._stopping:
            claimed = await self._claim()
            if not claimed and not self._inflight:
                if await self._close_if_finished():
                    return
                await self._idle()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=IDLE_POLL_SECONDS)
            self._changed.clear()

    async def _claim(self) -> list[Item]:
        shared = self._shared
        wanted = self._ctx.recipe.concurrency - len(self._inflight)
        granted = shared.capacity.acquire(wanted) if wanted > 0 else 0
        if granted == 0:
            return []
        lease_until = utcnow() + timedelta(seconds=shared.settings.lease_seconds)
        claimed = await shared.items.claim(self._ctx.run.id, granted, shared.runner.owner, lease_until)
        shared.capacity.release(granted - len(claimed))
        for item in claimed:
            task = asyncio.create_task(shared.runner.run(self._ctx, item))
            self._inflight[item.id] = task
            task.add_done_callback(functools.partial(self._on_done, item.id))
        return claimed

    def _on_done(self, item_id: int, _task: asyncio.Task[None]) -> None:
        if self._inflight.pop(item_id, None) is not None:
            self._shared.capacity.release(1)
        self._changed.set()

    async def _close_if_finished(self) -> bool:
        counts = await self._shared.runs.counts(self._ctx.run.id)
        if counts[ItemStatus.PENDING] or counts[ItemStatus.RUNNING]:
            return False
        await self._shared.runs.set_status(self._ctx.run.id, RunStatus.COMPLETED,
                                            ACTIVE_RUN_STATUSES, end_time=utcnow())
        return True

    async def _idle(self) -> None:
        """Nothing claimable: wait for the earliest backed-off item, a lease expiry or new work."""
        due = await self._shared.items.next_due(self._ctx.run.id)
        delay = IDLE_POLL_SECONDS
        if due is not None:
            delay = min(max((due - utcnow()).total_seconds(), 0.01), IDLE_POLL_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout=delay)
        self._changed.clear()
