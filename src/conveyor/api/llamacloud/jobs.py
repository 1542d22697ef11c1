"""The per-file jobs of a batch: a job id maps to one item of the batch's run (one file of one run)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conveyor.api.llamacloud import presets
from conveyor.api.llamacloud.context import Ctx
from conveyor.api.llamacloud.ids import IdKind
from conveyor.errors import NotFoundError
from conveyor.store.models import Element, Item, Recipe, Run


@dataclass(frozen=True)
class Job:
    id: str
    item: Item
    run: Run
    recipe: Recipe

    @property
    def parameters(self) -> dict[str, Any]:
        return presets.parameters_of(self.recipe.agent_spec) or {}

    def output(self, name: str) -> dict[str, Any] | None:
        """The item's output artifact called ``name`` (``markdown``, ``text``, ``pages``, ``json`` …)."""
        return next((o for o in self.item.outputs or () if o.get("name") == name), None)


async def load(ctx: Ctx, kind: IdKind, job_id: str) -> Job:
    core_id = await ctx.ids.core(kind, job_id)
    try:
        item, run = await ctx.core.runs.item(ctx.project, int(core_id))
    except NotFoundError as e:  # the batch was deleted since
        raise NotFoundError(f"{kind.noun} {job_id} not found") from e
    recipe = await ctx.core.runs.recipe_of(ctx.project, run)
    return Job(job_id, item, run, recipe)


async def output_element(ctx: Ctx, job: Job, name: str) -> Element | None:
    output = job.output(name)
    if output is None:
        return None
    return await ctx.core.containers.find_element(ctx.project.id, str(output["data_element_id"]))


async def read_text(ctx: Ctx, job: Job, name: str) -> str | None:
    element = await output_element(ctx, job, name)
    return (await ctx.core.containers.read_element(element)).decode("utf-8", "replace") if element else None


async def read_json(ctx: Ctx, job: Job, name: str) -> Any:
    text = await read_text(ctx, job, name)
    return json.loads(text) if text is not None else None
