"""Shared set-up for the engine benchmarks: an embedded core, a container of N elements made directly in
the store (one shared blob), a definition over it, and helpers to run and time it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import insert

from conveyor.domain.ids import Kind, new_id
from conveyor.processors.base import Artifact, ItemInput
from conveyor.services.core import Core, build_core
from conveyor.services.recipes import RecipeFields
from conveyor.settings import Settings
from conveyor.store.models import Blob, Element, Project, Run
from conveyor.store.types import utcnow

INSERT_CHUNK = 5_000


class NoopProcessor:
    """Does nothing and returns nothing: what is left is the engine's own cost."""

    kind: ClassVar[str] = "noop"

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        return []


class SleepProcessor:
    """Awaits ``options['sleep']`` seconds (an I/O-bound job such as an LLM call)."""

    kind: ClassVar[str] = "sleep"

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        await asyncio.sleep(float(options.get("sleep", 0.5)))
        return []


@dataclass
class Bench:
    core: Core
    project: Project
    container_id: str


async def open_bench(home: Path, **settings: Any) -> Bench:
    core = build_core(Settings(home=home, parse_workers=1, **settings),
                      extra_processors=[NoopProcessor(), SleepProcessor()])
    await core.db.migrate()
    project = (await core.auth.bootstrap(None, make_key=False)).project
    container = await core.containers.create(project.id, "bench")
    await core.engine.start()
    return Bench(core, project, container.id)


async def add_elements(bench: Bench, count: int) -> None:
    """``count`` elements sharing one blob, inserted in chunks straight into the store."""
    blob = await bench.core.containers._blobs.put_bytes(b"x")
    now = utcnow()
    async with bench.core.db.write() as s:
        await s.merge(Blob(sha256=blob.sha256, size=blob.size, created_at=now))
    for start in range(0, count, INSERT_CHUNK):
        rows = [{"id": new_id(Kind.ELEMENT), "project_id": bench.project.id, "container_id": bench.container_id,
                 "name": f"doc-{n:07d}.txt", "description": None, "media_type": "text/plain", "size": 1,
                 "sha256": blob.sha256, "metadata": {}, "source_run_id": None, "source_element_id": None,
                 "artifact_name": None, "created_at": now, "updated_at": now}
                for n in range(start, min(start + INSERT_CHUNK, count))]
        async with bench.core.db.write() as s:
            await s.execute(insert(Element.__table__), rows)


async def start_run(bench: Bench, agent_type: str, concurrency: int, **options: Any) -> Run:
    agent = await bench.core.agents.create(bench.project.id, {
        "display_name": f"bench {agent_type}", "type": agent_type, "additional_properties": options})
    recipe = await bench.core.recipes.create(bench.project, RecipeFields(
        name="bench", agent_id=agent.id, input_container_id=bench.container_id, concurrency=concurrency,
        retry_limit=0))
    return await bench.core.runs.execute(bench.project, recipe.id)


async def wait_done(bench: Bench, run_id: str, poll: float = 0.05) -> Run:
    while True:
        run = await bench.core.runs.get(bench.project, run_id)
        if run.status in ("COMPLETED", "FAILED", "CANCELLED"):
            return run
        await asyncio.sleep(poll)


def now() -> float:
    return time.perf_counter()
