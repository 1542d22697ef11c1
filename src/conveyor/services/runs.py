"""Runs (batch executions): start over a frozen element set, observe, cancel, retry failed items."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import ElementFilter
from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.engine.port import Engine
from conveyor.errors import ConflictError, InvalidInputError, NotFoundError
from conveyor.services.containers import ContainersService
from conveyor.services.recipes import RecipesService
from conveyor.store.models import Item, Project, Recipe, Run
from conveyor.store.runs import ItemPage, ItemsRepo, RunFilter, RunPage, RunsRepo, counts_of
from conveyor.store.types import utcnow
from conveyor.store.webhooks import WebhookTarget

MAX_ITEM_PAGE = 1000
RESULTS_PAGE = 500
FOLLOW_POLL_SECONDS = 0.5


def encode_cursor(position: tuple[datetime, int]) -> str:
    when, item_id = position
    return f"{int(when.timestamp() * 1_000_000)}-{item_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        micros, item_id = cursor.split("-", 1)
        return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC), int(item_id)
    except ValueError as e:
        raise InvalidInputError(f"invalid cursor {cursor!r}", loc=("query", "cursor")) from e


@dataclass(frozen=True)
class Progress:
    """A run's counts per status with throughput and an estimate of the time left."""

    run_id: str
    status: RunStatus
    total: int
    counts: dict[ItemStatus, int]
    items_per_second: float
    eta_seconds: float | None

    @property
    def done(self) -> int:
        return sum(n for status, n in self.counts.items() if status.terminal)

    def to_json(self) -> dict[str, Any]:
        return {"execution_id": self.run_id, "status": self.status.value, "total": self.total,
                "done": self.done, **{s.value.lower(): n for s, n in self.counts.items()},
                "items_per_second": round(self.items_per_second, 3),
                "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1)}


class RunsService:
    def __init__(self, runs: RunsRepo, items: ItemsRepo, recipes: RecipesService,
                 containers: ContainersService, engine: Engine) -> None:
        self._runs = runs
        self._items = items
        self._recipes = recipes
        self._containers = containers
        self._engine = engine

    async def execute(self, project: Project, recipe_id: str, *, batch_spec: dict[str, Any] | None = None,
                      idempotency_key: str | None = None, webhooks: Sequence[WebhookTarget] = (),
                      extra: dict[str, Any] | None = None) -> Run:
        """Start a run of one recipe version: pin it, freeze its element set, hand it to the engine.

        With an ``idempotency_key`` the same key always answers with the same run; ``webhooks`` are told
        about the run's events (by default its end); ``extra`` is what a face keeps on the run.
        """
        if idempotency_key is not None:
            existing = await self._runs.by_idempotency_key(project.id, idempotency_key)
            if existing is not None:
                return existing
        recipe = await self._recipes.get(project, recipe_id)
        input_missing = await self._containers.find(project.id, recipe.input_container_id) is None
        output_id = recipe.output_container_id
        if output_id is None and not input_missing:
            output_id = await self._new_output(project, recipe)
        now = utcnow()
        run = Run(id=new_id(Kind.RUN), project_id=project.id, recipe_id=recipe.id,
                  status=RunStatus.PENDING.value, input_container_id=recipe.input_container_id,
                  output_container_id=output_id, input_overrides=None, batch_spec=batch_spec,
                  total_items=0, error=None, extra=dict(extra or {}), start_time=now, end_time=None, updated_at=now,
                  idempotency_key=idempotency_key)
        if input_missing:  # the run itself fails: there is nothing to run over
            run.status, run.end_time = RunStatus.FAILED.value, now
            run.error = f"input datasource {recipe.input_container_id} no longer exists"
        try:
            run = await self._runs.create(run, ElementFilter.from_json(recipe.filters), webhooks)
        except ConflictError:  # a concurrent request with the same key won the race
            if idempotency_key is None:
                raise
            existing = await self._runs.by_idempotency_key(project.id, idempotency_key)
            if existing is None:
                raise
            return existing
        await self._engine.start_run(run.id)
        return run

    async def _new_output(self, project: Project, recipe: Recipe) -> str:
        container = await self._containers.create(
            project.id, f"{recipe.name}-output", description=f"Outputs of batch definition {recipe.id}",
            kind="output", extra={"recipe_id": recipe.id})
        return container.id

    async def get(self, project: Project, run_id: str) -> Run:
        run = await self._runs.get(project.id, run_id)
        if run is None:
            raise NotFoundError(f"batch execution {run_id} not found")
        return run

    async def get_with_recipe(self, project: Project, run_id: str) -> tuple[Run, Recipe]:
        found = await self._runs.get_with_recipe(project.id, run_id)
        if found is None:
            raise NotFoundError(f"batch execution {run_id} not found")
        return found

    async def recipe_of(self, project: Project, run: Run) -> Recipe:
        return await self._recipes.get(project, run.recipe_id, include_deleted=True)

    async def list(self, project: Project, *, input_container_id: str | None, offset: int,
                   limit: int | None, sort_by: str, descending: bool, where: RunFilter | None = None) -> RunPage:
        return await self._runs.search(project.id, input_container_id=input_container_id, offset=offset,
                                       limit=limit, sort_by=sort_by, descending=descending, where=where)

    async def delete(self, project: Project, run_id: str) -> Run:
        """Cancel the run if it is still going, then delete it and its items; returns it as it was."""
        run = await self.cancel(project, run_id)
        await self._runs.delete(run.id)
        return run

    async def item_slice(self, project: Project, run_id: str, offset: int, limit: int) -> Sequence[Item]:
        """The run's items in id order from position ``offset`` (for offset-paged faces)."""
        await self.get(project, run_id)
        return await self._items.slice(run_id, max(offset, 0), min(max(limit, 1), MAX_ITEM_PAGE))

    async def counts(self, run: Run) -> dict[ItemStatus, int]:
        """The counters of the run as read (they live on the run row)."""
        return counts_of(run)

    async def items(self, project: Project, run_id: str, *, status: ItemStatus | None,
                    cursor: int | None, limit: int) -> ItemPage:
        await self.get(project, run_id)
        return await self._items.page(run_id, status=status, cursor=cursor,
                                      limit=min(max(limit, 1), MAX_ITEM_PAGE))

    async def item(self, project: Project, item_id: int) -> tuple[Item, Run]:
        """One item of the project's runs, with its run."""
        found = await self._items.get(item_id)
        if found is None or found[1].project_id != project.id:
            raise NotFoundError(f"item {item_id} not found")
        return found

    async def results(self, project: Project, run_id: str, *, cursor: str | None,
                      follow: bool) -> AsyncIterator[tuple[str, Item]]:
        """Finished items in finishing order from ``cursor`` on, each with the cursor that resumes after it.

        With ``follow`` the stream waits for more until the run ends; otherwise it stops at the present.
        """
        await self.get(project, run_id)
        position = decode_cursor(cursor)
        while True:
            run = await self.get(project, run_id)
            page = await self._items.finished_after(run_id, position, RESULTS_PAGE)
            for item in page:
                assert item.finished_at is not None
                position = (item.finished_at, item.id)
                yield encode_cursor(position), item
            if len(page) == RESULTS_PAGE:
                continue
            if not follow or RunStatus(run.status).terminal:
                return
            await asyncio.sleep(FOLLOW_POLL_SECONDS)

    async def cancel(self, project: Project, run_id: str) -> Run:
        run = await self.get(project, run_id)
        if not RunStatus(run.status).terminal:
            await self._engine.cancel(run.id)
        return await self.get(project, run_id)

    async def retry_failed(self, project: Project, run_id: str) -> Run:
        await self.get(project, run_id)
        await self._engine.retry_failed(run_id)
        return await self.get(project, run_id)

    async def update_runtime(self, project: Project, run_id: str, *, status: str | None,
                             error: str | None, extra: dict[str, Any] | None,
                             output_container_id: str | None) -> Run:
        """The fields a client may set on a run; status only as a cancel request."""
        run = await self.get(project, run_id)
        if output_container_id is not None and output_container_id != run.output_container_id:
            if run.status != RunStatus.PENDING.value:
                raise ConflictError("output_datasource_id can only change before the run starts")
            await self._containers.get(project.id, output_container_id)
        values: dict[str, Any] = {}
        if error is not None:
            values["error"] = error
        if extra is not None:
            values["extra"] = {**run.extra, **extra}
        if output_container_id is not None:
            values["output_container_id"] = output_container_id
        if values:
            await self._runs.update_fields(run.id, **values)
        if status is not None and status.upper() == RunStatus.CANCELLED.value:
            return await self.cancel(project, run_id)
        return await self.get(project, run_id)

    async def progress(self, project: Project, run_id: str) -> Progress:
        run = await self.get(project, run_id)
        return _progress(run, counts_of(run), utcnow())


def _progress(run: Run, counts: dict[ItemStatus, int], now: datetime) -> Progress:
    done = sum(n for status, n in counts.items() if status.terminal)
    elapsed = max(((run.end_time or now) - run.start_time).total_seconds(), 1e-6)
    rate = done / elapsed
    left = run.total_items - done
    eta = 0.0 if left <= 0 else (left / rate if rate > 0 else None)
    return Progress(run.id, RunStatus(run.status), run.total_items, counts, rate, eta)
