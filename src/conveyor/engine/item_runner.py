"""Runs one claimed item to its outcome: processor call, output writing, error classification."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conveyor.blobs import BlobStore
from conveyor.domain.status import ItemStatus
from conveyor.engine.backoff import retry_delay
from conveyor.engine.outputs import OutputWriter
from conveyor.errors import NotFoundError, PermanentError, RetryableError
from conveyor.processors.base import ItemInput
from conveyor.processors.registry import ProcessorRegistry
from conveyor.store.containers import ElementsRepo
from conveyor.store.models import Item, Recipe, Run
from conveyor.store.runs import ItemsRepo
from conveyor.store.types import utcnow

MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class RunContext:
    """What every item of one run shares: the run, its pinned recipe, processor options."""

    run: Run
    recipe: Recipe
    options: dict[str, Any]
    timeout: float

    @property
    def agent_type(self) -> str | None:
        value = self.recipe.agent_spec.get("type")
        return str(value) if value else None


class ItemRunner:
    def __init__(self, *, items: ItemsRepo, elements: ElementsRepo, blobs: BlobStore,
                 outputs: OutputWriter, processors: ProcessorRegistry, owner: str) -> None:
        self._items = items
        self._elements = elements
        self._blobs = blobs
        self._outputs = outputs
        self._processors = processors
        self.owner = owner

    async def run(self, ctx: RunContext, item: Item) -> None:
        """Execute ``item`` and record SUCCEEDED, FAILED or a retry.

        Cancellation is not recorded here: the engine decides whether a cancelled task means a cancelled
        run (items → CANCELLED) or a shutdown (leases released, items → PENDING).
        """
        try:
            outputs = await asyncio.wait_for(self._execute(ctx, item), timeout=ctx.timeout)
        except PermanentError as e:
            await self._fail(ctx, item, e.message)
        except TimeoutError:
            await self._retry_or_fail(ctx, item, f"timed out after {ctx.timeout:g} s", None)
        except RetryableError as e:
            await self._retry_or_fail(ctx, item, e.message, e.retry_after)
        except Exception as e:  # unknown errors count as retryable
            await self._retry_or_fail(ctx, item, f"{type(e).__name__}: {e}", None)
        else:
            await self._items.finish(item.id, self.owner, ItemStatus.SUCCEEDED, outputs=outputs)

    async def _execute(self, ctx: RunContext, item: Item) -> list[dict[str, Any]]:
        element = await self._elements.get(ctx.run.input_container_id, item.element_id)
        if element is None:
            raise PermanentError("the input element was deleted before it could run")
        path = self._blobs.local_path(element.sha256)
        if not path.exists():
            raise PermanentError(str(NotFoundError(f"content of {element.name!r} is missing from storage")))
        processor = self._processors.get(ctx.agent_type)
        item_input = ItemInput(element_id=element.id, name=element.name, media_type=element.media_type,
                               size=element.size, path=path, metadata=element.meta or {})
        artifacts = await processor.run(item_input, ctx.options)
        return await self._outputs.write(ctx.run, item, artifacts)

    async def _fail(self, ctx: RunContext, item: Item, reason: str) -> None:
        await self._outputs.discard(ctx.run, item)
        await self._items.finish(item.id, self.owner, ItemStatus.FAILED, error=_clip(reason))

    async def _retry_or_fail(self, ctx: RunContext, item: Item, reason: str, retry_after: float | None) -> None:
        if item.attempts > ctx.recipe.retry_limit:
            await self._fail(ctx, item, f"{_clip(reason)} (gave up after {item.attempts} attempts)")
            return
        delay = retry_delay(item.attempts, retry_after)
        await self._items.requeue(item.id, self.owner, error=_clip(reason),
                                  not_before=utcnow() + timedelta(seconds=delay))


def _clip(reason: str, limit: int = MAX_ERROR_CHARS) -> str:
    """Errors are for people: keep the first line's worth, not a driver's whole statement dump."""
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"
