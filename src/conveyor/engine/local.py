"""The local engine: asyncio in the server process, durable through the database.

A supervisor keeps one :class:`RunWorker` per active run, heartbeats the leases of in-flight items and
returns expired leases to PENDING. Each worker claims due items in batches up to its run's
``concurrency`` and its fair share of the server-wide capacity, runs them, hands their results to the
:class:`ResultWriter` (which records them in batched transactions), and closes the run when every item
is terminal. Memory is O(items in flight), whatever the size of the run.
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
from conveyor.engine.results import ResultWriter
from conveyor.processors.base import ThrottleGauge
from conveyor.settings import Settings
from conveyor.store.models import Recipe
from conveyor.store.runs import ItemResult, ItemsRepo, RunsRepo
from conveyor.store.types import utcnow
from conveyor.store.versioned import VersionedRepo

log = logging.getLogger("conveyor.engine")
IDLE_POLL_SECONDS = 1.0
CLAIM_GATHER_SECONDS = 0.005
STOP_GRACE_SECONDS = 30.0  # how long a stopping loop may take to finish the step it is in
MAX_LEASE_LOSSES = 3


@dataclass(frozen=True)
class Shared:
    """What the engine and its run workers share."""

    runs: RunsRepo
    items: ItemsRepo
    runner: ItemRunner
    capacity: Capacity
    results: ResultWriter
    settings: Settings
    gauge: ThrottleGauge


class LocalEngine:
    def __init__(self, *, runs: RunsRepo, items: ItemsRepo, recipes: VersionedRepo[Recipe],
                 runner: ItemRunner, settings: Settings, gauge: ThrottleGauge | None = None) -> None:
        self._runs = runs
        self._items = items
        self._recipes = recipes
        self._settings = settings
        self._shared = Shared(runs, items, runner, Capacity(settings.max_workers), ResultWriter(items), settings,
                             gauge or ThrottleGauge())
        self._workers: dict[str, RunWorker] = {}
        self._cancelling: set[str] = set()
        self._reconciled: set[str] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def owner(self) -> str:
        return self._shared.runner.owner

    async def start(self) -> None:
        self._shared.results.start()
        await self.recover()
        self._supervisor = asyncio.create_task(self._supervise(), name="conveyor-engine")

    async def stop(self) -> None:
        """Stop taking work; in-flight items are handed back as PENDING for the next start."""
        self._stopping = True
        self._wake.set()
        if self._supervisor is not None:
            await finish(self._supervisor)
        for worker in list(self._workers.values()):
            await worker.stop(release=True)
        self._workers.clear()
        await self._shared.results.stop()

    async def start_run(self, run_id: str) -> None:
        self._wake.set()

    async def cancel(self, run_id: str) -> None:
        self._cancelling.add(run_id)
        try:
            worker = self._workers.pop(run_id, None)
            if worker is not None:
                await worker.stop(release=False)
            await self._shared.results.flush()
            await self._items.cancel_open(run_id)
            await self._runs.set_status(run_id, RunStatus.CANCELLED, end_time=utcnow())
        finally:
            self._cancelling.discard(run_id)

    async def retry_failed(self, run_id: str) -> int:
        return await self._reopen(run_id, ItemStatus.FAILED)

    async def resume(self, run_id: str) -> int:
        return await self._reopen(run_id, ItemStatus.CANCELLED)

    async def _reopen(self, run_id: str, status: ItemStatus) -> int:
        await self._shared.results.flush()
        reopened = await self._items.reopen(run_id, status)
        if reopened:
            await self._runs.set_status(run_id, RunStatus.RUNNING)
            self._wake.set()
        return reopened

    async def recover(self) -> int:
        recovered = await self._items.recover_expired(MAX_LEASE_LOSSES)
        if recovered:
            log.info("returned %d items with expired leases", recovered)
            self._wake.set()
        return recovered

    async def _supervise(self) -> None:
        heartbeat_every = self._settings.lease_seconds / 3
        last_beat = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
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
            if run.id not in self._reconciled:  # first sight in this process: trust the items, not counters
                await self._runs.reconcile(run.id)
                self._reconciled.add(run.id)
            recipe = await self._recipes.get(run.project_id, run.recipe_id, include_deleted=True)
            if recipe is None:
                await self._runs.set_status(run.id, RunStatus.FAILED, end_time=utcnow(),
                                            error="the run's batch definition no longer exists")
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
    """Drives one run: claim a batch, execute, repeat; closes the run when nothing is left."""

    def __init__(self, ctx: RunContext, shared: Shared) -> None:
        self._ctx = ctx
        self._shared = shared
        self._run_id = ctx.run.id
        self._inflight: dict[int, asyncio.Task[ItemResult]] = {}
        self._changed = asyncio.Event()
        self._stopping = False
        self._throttled = False
        self._starved = False  # no server capacity granted and nothing in flight
        self._free_since: float | None = None
        self._task = asyncio.create_task(self._main(), name=f"run-{ctx.run.id}")

    @property
    def done(self) -> bool:
        return self._task.done()

    @property
    def inflight_ids(self) -> list[int]:
        return list(self._inflight)

    async def stop(self, *, release: bool) -> None:
        """Stop claiming, then cancel in-flight items; ``release`` hands them back as PENDING."""
        self._stopping = True
        self._changed.set()
        await finish(self._task)
        ids = list(self._inflight)
        for task in self._inflight.values():
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        self._shared.capacity.forget(self._run_id)
        await self._shared.results.flush()
        if release and ids:
            await self._shared.items.release(self._shared.runner.owner, ids)

    async def _main(self) -> None:
        try:
            await self._shared.runs.set_status(self._run_id, RunStatus.RUNNING)
            while not self._stopping:
                claimed = await self._claim()
                await self._mark_throttled(self._starved or self._waiting_on_budget())
                if not claimed and not self._inflight:
                    await self._shared.results.flush()
                    if await self._close_if_finished():
                        return
                    await self._idle()
                    continue
                free = self._ctx.recipe.concurrency - len(self._inflight)
                await self._wait_for_change(within=CLAIM_GATHER_SECONDS if free > 0 else IDLE_POLL_SECONDS)
        finally:
            self._shared.capacity.forget(self._run_id)

    @property
    def _batch_floor(self) -> int:
        """Claim at once when this many slots are free (or none is busy); fewer wait CLAIM_GATHER_SECONDS."""
        return max(1, self._ctx.recipe.concurrency // 8)

    async def _claim(self) -> int:
        shared = self._shared
        wanted = self._ctx.recipe.concurrency - len(self._inflight)
        self._starved = False
        if wanted <= 0:
            self._free_since = None
            return 0
        loop_time = asyncio.get_running_loop().time()
        if self._free_since is None:
            self._free_since = loop_time
        gathering = loop_time - self._free_since < CLAIM_GATHER_SECONDS
        if self._inflight and wanted < self._batch_floor and gathering:
            return 0  # wait a moment for more slots to free up: fewer, larger claims
        self._free_since = None
        granted = shared.capacity.acquire(self._run_id, wanted, wake=self._changed.set)
        self._starved = granted == 0 and not self._inflight
        if granted == 0:
            return 0
        lease_until = utcnow() + timedelta(seconds=shared.settings.lease_seconds)
        claimed = await shared.items.claim(self._run_id, granted, shared.runner.owner, lease_until,
                                           concurrency=self._ctx.recipe.concurrency,
                                           finished_unrecorded=shared.results.unapplied(self._run_id))
        if len(claimed) < granted:  # the run has no more due items for now
            shared.capacity.release(self._run_id, granted - len(claimed))
            shared.capacity.acquire(self._run_id, 0)
        for entry in claimed:
            task = asyncio.create_task(shared.runner.run(self._ctx, entry))
            self._inflight[entry.item.id] = task
            task.add_done_callback(functools.partial(self._on_done, entry.item.id))
        return len(claimed)

    def _on_done(self, item_id: int, task: asyncio.Task[ItemResult]) -> None:
        if self._inflight.pop(item_id, None) is None:
            return
        self._shared.capacity.release(self._run_id, 1)
        if not task.cancelled() and task.exception() is None:
            self._shared.results.submit(task.result())
        elif not task.cancelled():
            log.error("item %s crashed the runner: %r", item_id, task.exception())
        self._changed.set()

    def _waiting_on_budget(self) -> bool:
        """Every item in flight is waiting on an outside budget (an LLM provider's rate limit)."""
        return bool(self._inflight) and self._shared.gauge.count(self._run_id) >= len(self._inflight)

    async def _mark_throttled(self, throttled: bool) -> None:
        """THROTTLED while the run waits for server capacity with nothing in flight, or while all its items
        in flight wait on a provider's budget; RUNNING again after."""
        if throttled == self._throttled:
            return
        self._throttled = throttled
        await self._shared.runs.set_status(self._run_id, RunStatus.THROTTLED if throttled else RunStatus.RUNNING)

    async def _close_if_finished(self) -> bool:
        counts = await self._shared.runs.counts(self._run_id)
        if counts[ItemStatus.PENDING] or counts[ItemStatus.RUNNING]:
            return False
        await self._shared.runs.set_status(self._run_id, RunStatus.COMPLETED, end_time=utcnow())
        return True

    async def _idle(self) -> None:
        """Nothing claimable: wait for a backed-off item to come due, a lease to expire, or capacity."""
        due = await self._shared.items.next_due(self._run_id)
        delay = IDLE_POLL_SECONDS
        if due is not None:
            delay = min(max((due - utcnow()).total_seconds(), 0.01), IDLE_POLL_SECONDS)
        await self._wait_for_change(within=delay)

    async def _wait_for_change(self, *, within: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout=within)
        self._changed.clear()


async def finish(task: asyncio.Task[None]) -> None:
    """Let a loop that was told to stop end the step it is in, and cancel it only if that takes too long.

    Cancelling a task in the middle of a database write can leave its SQLite connection holding the write
    lock (the statement completes in the driver's thread after the task is gone), and every later writer
    then waits out the busy timeout; the loops check their stop flag between steps instead.
    """
    done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
    if not done:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
