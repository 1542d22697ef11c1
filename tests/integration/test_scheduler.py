"""Recurrence: every cron tick starts exactly one run, even with two schedulers racing on one database;
ticks missed while no scheduler ran are coalesced into one; a tick recorded by a process that died before
starting its run is finished later, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conveyor.services.core import Core, build_core
from conveyor.services.recipes import RecipeFields
from conveyor.services.scheduler import Scheduler, latest_tick
from conveyor.settings import Settings
from conveyor.store.fires import FiresRepo
from conveyor.store.models import Project, Recipe
from conveyor.store.projects import ProjectsRepo
from conveyor.store.types import utcnow

START = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[list[Core]]:
    """Two cores (as two server replicas) on one database and one blob directory; engines not started."""
    cores = [build_core(Settings(home=tmp_path / f"r{i}", database_url=database_url, blob_dir=tmp_path / "blobs",
                                 parse_workers=1, scheduler=False)) for i in range(2)]
    await cores[0].db.migrate()
    yield cores
    for core in cores:
        await core.close()


def schedulers(cores: list[Core], clock: Clock) -> list[Scheduler]:
    return [Scheduler(FiresRepo(c.db), ProjectsRepo(c.db), c.runs, f"replica-{i}", clock=clock)
            for i, c in enumerate(cores)]


async def scheduled_recipe(core: Core, cron: str, created: datetime) -> tuple[Project, Recipe]:
    project = (await core.auth.bootstrap(None, make_key=False)).project
    container = await core.containers.create(project.id, "in")
    agent = await core.agents.create(project.id, {"display_name": "p", "type": "parse"})
    recipe = await core.recipes.create(project, RecipeFields(
        name="nightly", agent_id=agent.id, input_container_id=container.id, recurrence_cron=cron))
    await core.recipes._recipes.set_fields(recipe.id, created_at=created)  # the schedule began at `created`
    return project, recipe


async def runs_of(core: Core, project: Project) -> int:
    return (await core.runs.list(project, input_container_id=None, offset=0, limit=None, sort_by="start_time",
                                 descending=False)).total


async def test_two_racing_schedulers_fire_each_tick_once(replicas: list[Core]) -> None:
    clock = Clock()
    project, recipe = await scheduled_recipe(replicas[0], "* * * * *", START - timedelta(minutes=5))
    racing = schedulers(replicas, clock)
    fired: list[str] = []
    for minute in range(3):
        clock.now = START + timedelta(minutes=minute)
        for _ in range(3):  # several passes per tick, both replicas at once
            results = await asyncio.gather(*(s.tick() for s in racing))
            fired += [run_id for started in results for run_id in started]
    assert len(fired) == 3 == len(set(fired)), "one run per tick"
    assert await runs_of(replicas[0], project) == 3
    fires = await FiresRepo(replicas[0].db).for_lineage(recipe.lineage_id)
    assert [f.fire_time for f in fires] == [latest_tick("* * * * *", START + timedelta(minutes=m)) for m in range(3)]
    assert all(f.run_id for f in fires)


async def test_missed_ticks_fire_once_not_once_each(replicas: list[Core]) -> None:
    clock = Clock()
    project, _recipe = await scheduled_recipe(replicas[0], "*/5 * * * *", START - timedelta(hours=1))
    [scheduler, _] = schedulers(replicas, clock)
    clock.now = START + timedelta(hours=3)  # 36 ticks passed while nothing ran
    assert len(await scheduler.tick()) == 1
    assert await scheduler.tick() == []
    assert await runs_of(replicas[0], project) == 1


async def test_no_tick_before_the_schedule_existed(replicas: list[Core]) -> None:
    clock = Clock()
    project, _recipe = await scheduled_recipe(replicas[0], "0 0 * * *", utcnow())
    [scheduler, _] = schedulers(replicas, clock)
    clock.now = utcnow()
    assert await scheduler.tick() == []
    assert await runs_of(replicas[0], project) == 0


async def test_a_recorded_tick_without_a_run_is_started_once(replicas: list[Core]) -> None:
    clock = Clock()
    project, recipe = await scheduled_recipe(replicas[0], "0 * * * *", START - timedelta(days=1))
    tick = latest_tick("0 * * * *", START)
    fires = FiresRepo(replicas[0].db)
    assert await fires.claim_tick(recipe.lineage_id, tick, recipe.id, "a process that then died", at=START)
    racing = schedulers(replicas, clock)
    clock.now = START + timedelta(seconds=10)
    assert [await s.tick() for s in racing] == [[], []], "too fresh: its process may still be starting it"
    clock.now = START + timedelta(minutes=5)
    results = await asyncio.gather(*(s.tick() for s in racing))
    assert await runs_of(replicas[0], project) == 1
    assert len({run_id for started in results for run_id in started}) == 1, "both may finish it: one run"
    [fire] = await fires.for_lineage(recipe.lineage_id)
    assert fire.run_id is not None
