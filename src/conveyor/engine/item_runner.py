"""Runs one claimed item to an outcome: processor call, artifact storage, error classification.

It writes no status itself: it returns an :class:`ItemResult` that the engine records in batches.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from conveyor.blobs import BlobStore
from conveyor.domain.status import ItemStatus
from conveyor.domain.usage import Usage
from conveyor.engine.backoff import retry_delay
from conveyor.engine.outputs import ArtifactStore
from conveyor.errors import PermanentError, RetryableError
from conveyor.processors.base import ItemInput
from conveyor.processors.registry import ProcessorRegistry
from conveyor.store.models import Recipe, Run
from conveyor.store.runs import Claimed, ItemResult, OutputRow
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
    def __init__(self, *, blobs: BlobStore, processors: ProcessorRegistry, owner: str) -> None:
        self._blobs = blobs
        self._artifacts = ArtifactStore(blobs)
        self._processors = processors
        self.owner = owner

    async def run(self, ctx: RunContext, claimed: Claimed) -> ItemResult:
        """The item's outcome: SUCCEEDED with outputs, FAILED with a reason, or PENDING for a retry."""
        item, run = claimed.item, ctx.run
        base = ItemResult(item_id=item.id, run_id=run.id, owner=self.owner, status=ItemStatus.SUCCEEDED,
                          project_id=run.project_id, element_id=item.element_id,
                          output_container_id=run.output_container_id)
        usage = Usage()
        base = replace(base, usage=usage)  # filled in while the processor runs, whatever its outcome
        try:
            async with asyncio.timeout(ctx.timeout):
                outputs = await self._execute(ctx, claimed, usage)
        except PermanentError as e:
            return replace(base, status=ItemStatus.FAILED, error=_clip(e.message))
        except TimeoutError:
            return self._retry_or_fail(ctx, claimed, base, f"timed out after {ctx.timeout:g} s", None)
        except RetryableError as e:
            return self._retry_or_fail(ctx, claimed, base, e.message, e.retry_after)
        except Exception as e:  # unknown errors count as retryable
            return self._retry_or_fail(ctx, claimed, base, f"{type(e).__name__}: {e}", None)
        return replace(base, outputs=outputs)

    async def _execute(self, ctx: RunContext, claimed: Claimed, usage: Usage) -> tuple[OutputRow, ...]:
        element = claimed.element
        if element is None:
            raise PermanentError("the input element was deleted before it could run")
        path = self._blobs.local_path(element.sha256)
        processor = self._processors.get(ctx.agent_type)
        item_input = ItemInput(element_id=element.id, name=element.name, media_type=element.media_type,
                               size=element.size, path=path, metadata=element.meta or {}, run_id=ctx.run.id,
                               usage=usage)
        artifacts = await processor.run(item_input, ctx.options)
        if artifacts and ctx.run.output_container_id is None:
            raise PermanentError("the run has no output datasource for this item's artifacts")
        return await self._artifacts.store(element.name, element.id, ctx.run.id, artifacts)

    def _retry_or_fail(self, ctx: RunContext, claimed: Claimed, base: ItemResult, reason: str,
                       retry_after: float | None) -> ItemResult:
        attempts = claimed.item.attempts
        if attempts > ctx.recipe.retry_limit:
            return replace(base, status=ItemStatus.FAILED,
                           error=f"{_clip(reason)} (gave up after {attempts} attempts)")
        delay = retry_delay(attempts, retry_after)
        return replace(base, status=ItemStatus.PENDING, error=_clip(reason),
                       not_before=utcnow() + timedelta(seconds=delay))


def _clip(reason: str, limit: int = MAX_ERROR_CHARS) -> str:
    """Errors are for people: keep a readable length, not a driver's whole statement dump."""
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"
