"""Fires ``recurrence_cron`` recipes: each tick starts one run, whoever fires it, however many replicas.

A pass looks at every scheduled recipe, takes the latest tick that is due (ticks missed while no server
was up are coalesced into that one), and records it in ``fires``; only the process whose insert made the
row starts the run, under the idempotency key ``cron:<lineage>:<tick>``, so a process that died between
recording and starting is finished by a later pass without a second run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from croniter import croniter

from conveyor.errors import ConveyorError
from conveyor.services.runs import RunsService
from conveyor.store.fires import FiresRepo
from conveyor.store.models import Recipe
from conveyor.store.projects import ProjectsRepo
from conveyor.store.types import utcnow

log = logging.getLogger("conveyor.scheduler")
PASS_SECONDS = 1.0
STALE_TICK = timedelta(seconds=30)


def latest_tick(expression: str, now: datetime) -> datetime:
    """The most recent time at or before ``now`` that the expression fires."""
    probe = now + timedelta(microseconds=1)
    tick: datetime = croniter(expression, probe).get_prev(datetime)
    return tick


class Scheduler:
    def __init__(self, fires: FiresRepo, projects: ProjectsRepo, runs: RunsService, name: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._fires = fires
        self._projects = projects
        self._runs = runs
        self._name = name
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="conveyor-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def tick(self) -> list[str]:
        """One pass; returns the ids of the runs this process started."""
        now = self._clock()
        started = []
        for recipe in await self._fires.scheduled_recipes():
            run_id = await self._fire_if_due(recipe, now)
            if run_id is not None:
                started.append(run_id)
        return started + await self._finish_orphans(now)

    async def _fire_if_due(self, recipe: Recipe, now: datetime) -> str | None:
        assert recipe.recurrence_cron is not None
        tick = latest_tick(recipe.recurrence_cron, now)
        if tick < recipe.created_at.replace(microsecond=0):
            return None  # the schedule had not started yet
        if not await self._fires.claim_tick(recipe.lineage_id, tick, recipe.id, self._name, at=now):
            return None
        fire = await self._fires.find(recipe.lineage_id, tick)
        assert fire is not None
        return await self._start(fire.id, recipe.project_id, recipe.id, recipe.lineage_id, tick)

    async def _finish_orphans(self, now: datetime) -> list[str]:
        started = []
        for fire, project_id in await self._fires.unstarted(older_than=now - STALE_TICK):
            run_id = await self._start(fire.id, project_id, fire.recipe_id, fire.lineage_id, fire.fire_time)
            if run_id is not None:
                started.append(run_id)
        return started

    async def _start(self, fire_id: int, project_id: str, recipe_id: str, lineage_id: str,
                     tick: datetime) -> str | None:
        project = await self._projects.get(project_id)
        if project is None:
            return None
        try:
            run = await self._runs.execute(project, recipe_id, idempotency_key=f"cron:{lineage_id}:{tick.isoformat()}")
        except ConveyorError as e:
            log.warning("scheduled run of %s at %s not started: %s", recipe_id, tick, e.message)
            return None
        await self._fires.set_run(fire_id, run.id)
        log.info("fired %s for %s at %s", run.id, recipe_id, tick.isoformat())
        return run.id

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler pass failed")
            await asyncio.sleep(PASS_SECONDS)
