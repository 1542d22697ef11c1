"""Runs and their items: creation over a frozen element set, claiming work, recording results.

Every statement that moves items between statuses also moves the run's counters (``runs.pending`` …)
in the same transaction, so a run's counts are one row read however many items it has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import ElementFilter
from conveyor.domain.status import ItemStatus, RunStatus, allowed_sources, require_item_move
from conveyor.domain.usage import Usage
from conveyor.errors import ConflictError
from conveyor.store.containers import apply_filter
from conveyor.store.database import Database
from conveyor.store.models import Agent, Blob, Element, FaceId, Item, Recipe, Run
from conveyor.store.types import utcnow
from conveyor.store.webhooks import WebhookTarget, drop_subscriptions, enqueue, subscriptions_for

ELEMENTS: Table = Element.__table__  # type: ignore[assignment]  # Core tables for executemany/upsert
ITEMS: Table = Item.__table__  # type: ignore[assignment]
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.THROTTLED)
COUNTER = {status: status.value.lower() for status in ItemStatus}


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    total: int


@dataclass(frozen=True)
class RunFilter:
    """Optional conditions on a run search; ``agent_lineage_id`` matches runs of any of its versions,
    ``face_kind`` (face, kind) the runs that have an id of that kind in that face."""

    run_id: str | None = None
    statuses: tuple[str, ...] | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    agent_lineage_id: str | None = None
    face_kind: tuple[str, str] | None = None

    def apply(self, stmt: Any) -> Any:
        if self.run_id is not None:
            stmt = stmt.where(Run.id == self.run_id)
        if self.statuses is not None:
            stmt = stmt.where(Run.status.in_(self.statuses))
        if self.started_from is not None:
            stmt = stmt.where(Run.start_time >= self.started_from)
        if self.started_to is not None:
            stmt = stmt.where(Run.start_time <= self.started_to)
        if self.agent_lineage_id is not None:
            versions = select(Agent.id).where(Agent.lineage_id == self.agent_lineage_id)
            stmt = stmt.where(Run.recipe_id.in_(select(Recipe.id).where(Recipe.agent_id.in_(versions))))
        if self.face_kind is not None:
            face, kind = self.face_kind
            mapped = select(FaceId.core_id).where(FaceId.project_id == Run.project_id, FaceId.face == face,
                                                  FaceId.kind == kind)
            stmt = stmt.where(Run.id.in_(mapped))
        return stmt


@dataclass(frozen=True)
class ItemPage:
    items: list[Item]
    next_cursor: int | None


@dataclass(frozen=True)
class ClaimedItem:
    id: int
    element_id: str
    element_name: str
    attempts: int
    status: str


@dataclass(frozen=True)
class ClaimedElement:
    id: str
    name: str
    media_type: str
    size: int
    sha256: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    """A leased item with the element it runs on (None if the element was deleted); plain rows, no ORM."""

    item: ClaimedItem
    element: ClaimedElement | None


@dataclass(frozen=True)
class OutputRow:
    """One artifact already stored as a blob, to become an element of the run's output container."""

    name: str
    type: str
    filename: str
    media_type: str
    size: int
    sha256: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemResult:
    """What one attempt of one item came to; applied in batches by ``ItemsRepo.apply``."""

    item_id: int
    run_id: str
    owner: str
    status: ItemStatus  # SUCCEEDED, FAILED, or PENDING for a retry
    project_id: str = ""
    element_id: str = ""
    output_container_id: str | None = None
    error: str | None = None
    not_before: datetime | None = None
    outputs: tuple[OutputRow, ...] = ()
    usage: Usage | None = None  # LLM requests and tokens this attempt spent (added to the item's and run's)


def _usage_params(result: ItemResult) -> dict[str, int]:
    usage = result.usage or Usage()
    return {"b_requests": usage.requests, "b_prompt": usage.prompt_tokens, "b_completion": usage.completion_tokens}


def run_event(run: Run) -> str:
    """The webhook event of a run's status: ``run.pending`` when made, ``run.running`` (or ``run.throttled``
    when it waits for capacity) when it starts or restarts, ``run.completed``, ``run.failed`` or
    ``run.cancelled`` when it ends."""
    return f"run.{run.status.lower()}"


def run_snapshot(run: Run) -> dict[str, Any]:
    """What a run's webhook reports, frozen when the event happens (the run may be deleted before delivery)."""
    return {"run_id": run.id, "status": run.status, "error": run.error, "updated_at": run.updated_at.isoformat(),
            "start_time": run.start_time.isoformat(), "end_time": run.end_time.isoformat() if run.end_time else None,
            "total_items": run.total_items, "succeeded": run.succeeded, "failed": run.failed,
            "cancelled": run.cancelled, "input_container_id": run.input_container_id,
            "output_container_id": run.output_container_id}


def counts_of(run: Run) -> dict[ItemStatus, int]:
    return {status: int(getattr(run, COUNTER[status])) for status in ItemStatus}


def _moves(deltas: Counter[tuple[str, ItemStatus]]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Counter changes per run as UPDATE values: ``{"pending": runs.pending - 3, ...}``."""
    per_run: dict[str, dict[ItemStatus, int]] = {}
    for (run_id, status), n in deltas.items():
        if n:
            per_run.setdefault(run_id, {})[status] = per_run.get(run_id, {}).get(status, 0) + n
    for run_id, changes in per_run.items():
        yield run_id, {COUNTER[s]: getattr(Run, COUNTER[s]) + n for s, n in changes.items() if n}


async def move_counters(s: AsyncSession, deltas: Counter[tuple[str, ItemStatus]]) -> None:
    for run_id, values in _moves(deltas):
        if values:
            await s.execute(update(Run).where(Run.id == run_id).values(**values))


class RunsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, run: Run, element_filter: ElementFilter,
                     webhooks: Sequence[WebhookTarget] = ()) -> Run:
        """Insert the run and one PENDING item per matching element, in SQL: no element is loaded.

        ``webhooks`` subscribe to the run's end in the same transaction, so no end can go unreported.
        """
        chosen = apply_filter(
            select(literal(run.id), Element.id, Element.name, literal(ItemStatus.PENDING.value), literal(0))
            .where(Element.container_id == run.input_container_id), element_filter).order_by(Element.id)
        try:
            return await self._insert(run, chosen, webhooks)
        except IntegrityError as e:
            raise ConflictError(f"a run with idempotency key {run.idempotency_key!r} exists") from e

    async def _insert(self, run: Run, chosen: Any, webhooks: Sequence[WebhookTarget]) -> Run:
        async with self._db.write() as s:
            s.add(run)
            s.add_all(subscriptions_for(run.project_id, run.id, webhooks))
            await s.flush()
            await s.execute(insert(Item).from_select(
                ["run_id", "element_id", "element_name", "status", "attempts"], chosen))
            total = (await s.execute(select(func.count()).select_from(Item).where(Item.run_id == run.id)))
            run.total_items = run.pending = int(total.scalar_one())
            await enqueue(s, run.id, run_event(run), run_snapshot(run))
        return run

    async def get(self, project_id: str, run_id: str) -> Run | None:
        async with self._db.read() as s:
            run = await s.get(Run, run_id)
            return run if run is not None and run.project_id == project_id else None

    async def get_with_recipe(self, project_id: str, run_id: str) -> tuple[Run, Recipe] | None:
        """A run and the recipe version it ran, in one read."""
        async with self._db.read() as s:
            row = (await s.execute(select(Run, Recipe).join(Recipe, Recipe.id == Run.recipe_id)
                                   .where(Run.id == run_id, Run.project_id == project_id))).first()
        return (row[0], row[1]) if row is not None else None

    async def by_idempotency_key(self, project_id: str, key: str) -> Run | None:
        async with self._db.read() as s:
            stmt = select(Run).where(Run.project_id == project_id, Run.idempotency_key == key)
            return (await s.scalars(stmt)).first()

    async def search(self, project_id: str, *, input_container_id: str | None, offset: int, limit: int | None,
                     sort_by: str, descending: bool, where: RunFilter | None = None) -> RunPage:
        stmt = select(Run).where(Run.project_id == project_id)
        if input_container_id:
            stmt = stmt.where(Run.input_container_id == input_container_id)
        if where is not None:
            stmt = where.apply(stmt)
        column = Run.status if sort_by == "status" else Run.start_time
        stmt = stmt.order_by(column.desc() if descending else column.asc(), Run.id)
        async with self._db.read() as s:
            total = int((await s.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
            paged = stmt.offset(offset) if limit is None else stmt.offset(offset).limit(limit)
            return RunPage(list(await s.scalars(paged)), total)

    async def active(self) -> list[Run]:
        async with self._db.read() as s:
            return list(await s.scalars(select(Run).where(Run.status.in_(ACTIVE_RUN_STATUSES)).order_by(Run.id)))

    async def set_status(self, run_id: str, new: RunStatus, *, error: str | None = None,
                         end_time: datetime | None = None) -> bool:
        """Move a run to ``new`` if the domain allows it from its current status; True if it moved.

        The move reports its webhook event in the same transaction, except between RUNNING and THROTTLED
        (the run was going all along).
        """
        values: dict[str, Any] = {"status": new.value, "updated_at": utcnow(), "end_time": end_time}
        if error is not None:
            values["error"] = error
        sources = {s.value for s in allowed_sources(new)}
        going = {RunStatus.RUNNING.value, RunStatus.THROTTLED.value}
        quiet = going & sources if new.value in going else set()
        async with self._db.write() as s:
            if await self._move(s, run_id, sources - quiet, values):
                run = (await s.scalars(select(Run).where(Run.id == run_id)
                                       .execution_options(populate_existing=True))).one()
                await enqueue(s, run_id, run_event(run), run_snapshot(run))
                return True
            return bool(quiet) and await self._move(s, run_id, quiet, values)

    @staticmethod
    async def _move(s: AsyncSession, run_id: str, sources: set[str], values: dict[str, Any]) -> bool:
        if not sources:
            return False
        result = await s.execute(update(Run).where(Run.id == run_id, Run.status.in_(sources)).values(**values))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, run_id: str) -> None:
        """The run, its items (cascade) and its webhook subscriptions; deliveries already due still go."""
        async with self._db.write() as s:
            await drop_subscriptions(s, run_id)
            await s.execute(delete(Item).where(Item.run_id == run_id))
            await s.execute(delete(Run).where(Run.id == run_id))

    async def update_fields(self, run_id: str, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(update(Run).where(Run.id == run_id).values(updated_at=utcnow(), **values))

    async def counts(self, run_id: str) -> dict[ItemStatus, int]:
        """The run's counters (one row read)."""
        async with self._db.read() as s:
            run = await s.get(Run, run_id)
        return counts_of(run) if run is not None else dict.fromkeys(ItemStatus, 0)

    async def recount(self, run_id: str) -> dict[ItemStatus, int]:
        """Counts by scanning the items; ``reconcile`` writes them back as the counters."""
        stmt = select(Item.status, func.count()).where(Item.run_id == run_id).group_by(Item.status)
        async with self._db.read() as s:
            rows = (await s.execute(stmt)).all()
        counts = dict.fromkeys(ItemStatus, 0)
        for status, n in rows:
            counts[ItemStatus(status)] = int(n)
        return counts

    async def reconcile(self, run_id: str) -> dict[ItemStatus, int]:
        counts = await self.recount(run_id)
        await self.update_fields(run_id, **{COUNTER[s]: n for s, n in counts.items()})
        return counts


class ItemsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(self, run_id: str, *, status: ItemStatus | None, cursor: int | None,
                   limit: int) -> ItemPage:
        stmt = select(Item).where(Item.run_id == run_id)
        if status is not None:
            stmt = stmt.where(Item.status == status.value)
        if cursor is not None:
            stmt = stmt.where(Item.id > cursor)
        async with self._db.read() as s:
            rows = list(await s.scalars(stmt.order_by(Item.id).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return ItemPage(rows, rows[-1].id if more and rows else None)

    async def get(self, item_id: int) -> tuple[Item, Run] | None:
        """An item with its run, in one read."""
        async with self._db.read() as s:
            row = (await s.execute(select(Item, Run).join(Run, Run.id == Item.run_id)
                                   .where(Item.id == item_id))).first()
        return (row[0], row[1]) if row is not None else None

    async def slice(self, run_id: str, offset: int, limit: int) -> list[Item]:
        """Items in id order from position ``offset``."""
        stmt = select(Item).where(Item.run_id == run_id).order_by(Item.id).offset(offset).limit(limit)
        async with self._db.read() as s:
            return list(await s.scalars(stmt))

    async def finished_after(self, run_id: str, after: tuple[datetime, int] | None, limit: int) -> list[Item]:
        """Terminal items in the order they finished, after the (finished_at, id) position ``after``."""
        terminal = [s.value for s in ItemStatus if s.terminal]
        stmt = select(Item).where(Item.run_id == run_id, Item.status.in_(terminal), Item.finished_at.is_not(None))
        if after is not None:
            when, item_id = after
            stmt = stmt.where((Item.finished_at > when) | ((Item.finished_at == when) & (Item.id > item_id)))
        async with self._db.read() as s:
            return list(await s.scalars(stmt.order_by(Item.finished_at, Item.id).limit(limit)))

    async def claim(self, run_id: str, limit: int, owner: str, lease_until: datetime,
                    concurrency: int | None = None, finished_unrecorded: int = 0) -> list[Claimed]:
        """Lease up to ``limit`` due PENDING items of a run to ``owner`` (attempts +1), with their elements.

        With ``concurrency``, the run's RUNNING count in the database caps the claim, so the limit holds
        across every process that works on the run, not only within this one; ``finished_unrecorded``
        are this process's items that finished but whose results are not written yet.
        """
        async with self._db.write(urgent=True) as s:
            if concurrency is not None:
                running = await self._running(s, run_id) - finished_unrecorded
                limit = min(limit, concurrency - running)
            if limit <= 0:
                return []
            return await self._claim(s, run_id, limit, owner, lease_until)

    async def _running(self, s: AsyncSession, run_id: str) -> int:
        stmt = select(Run.running).where(Run.id == run_id)
        if not self._db.is_sqlite:
            stmt = stmt.with_for_update()
        return int((await s.execute(stmt)).scalar() or 0)

    async def _claim(self, s: AsyncSession, run_id: str, limit: int, owner: str,
                     lease_until: datetime) -> list[Claimed]:
        now = utcnow()
        due = (select(Item.id).where(Item.run_id == run_id, Item.status == ItemStatus.PENDING.value,
                                     (Item.not_before.is_(None)) | (Item.not_before <= now))
               .order_by(Item.id).limit(limit))
        if not self._db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        t, e = ITEMS.c, ELEMENTS.c
        stmt = (update(ITEMS).where(t.id.in_(due.scalar_subquery()))
                .values(status=ItemStatus.RUNNING.value, lease_owner=owner, lease_expires_at=lease_until,
                        attempts=t.attempts + 1, started_at=now, error=None)
                .returning(t.id, t.element_id, t.element_name, t.attempts, t.status))
        items = [ClaimedItem(*row) for row in await s.execute(stmt)]
        if not items:
            return []
        await move_counters(s, Counter({(run_id, ItemStatus.PENDING): -len(items),
                                        (run_id, ItemStatus.RUNNING): len(items)}))
        rows = await s.execute(select(e.id, e.name, e.media_type, e.size, e.sha256, e.metadata)
                               .where(e.id.in_([i.element_id for i in items])))
        elements = {row[0]: ClaimedElement(*row) for row in rows}
        return [Claimed(item, elements.get(item.element_id)) for item in sorted(items, key=lambda i: i.id)]

    async def next_due(self, run_id: str) -> datetime | None:
        """When the earliest waiting (backed-off) PENDING item of the run becomes due."""
        stmt = select(func.min(Item.not_before)).where(
            Item.run_id == run_id, Item.status == ItemStatus.PENDING.value)
        async with self._db.read() as s:
            value: datetime | None = (await s.execute(stmt)).scalar()
        return value

    async def apply(self, results: Sequence[ItemResult]) -> int:
        """Record a batch of results in one transaction: outputs, statuses (fenced by lease), counters.

        Returns how many results took effect; a result whose lease was lost writes nothing.
        """
        if not results:
            return 0
        async with self._db.write() as s:
            live = await self._still_leased(s, results)
            outputs = {r.item_id: await self._write_outputs(s, r) for r in live if r.outputs}
            await self._drop_stale_outputs(s, live)
            deltas: Counter[tuple[str, ItemStatus]] = Counter()
            now = utcnow()
            for status in (ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.PENDING):
                require_item_move(ItemStatus.RUNNING, status)
                group = [r for r in live if r.status == status]
                if group:
                    await self._set_results(s, status, group, outputs, now)
                for r in group:
                    deltas[(r.run_id, ItemStatus.RUNNING)] -= 1
                    deltas[(r.run_id, status)] += 1
            await move_counters(s, deltas)
            await self._add_usage(s, results)  # tokens were spent even by an attempt that lost its lease
            return len(live)

    async def _add_usage(self, s: AsyncSession, results: Sequence[ItemResult]) -> None:
        """Token usage accumulates over an item's attempts, and on its run."""
        spent = [r for r in results if r.usage is not None and not r.usage.empty]
        if not spent:
            return
        items = ITEMS
        await s.execute(update(items).where(items.c.id == bindparam("b_id")).values(
            llm_requests=items.c.llm_requests + bindparam("b_requests"),
            prompt_tokens=items.c.prompt_tokens + bindparam("b_prompt"),
            completion_tokens=items.c.completion_tokens + bindparam("b_completion")),
            [{"b_id": r.item_id, **_usage_params(r)} for r in spent])
        per_run: dict[str, Counter[str]] = {}
        for r in spent:
            per_run.setdefault(r.run_id, Counter()).update(_usage_params(r))
        for run_id, total in per_run.items():
            await s.execute(update(Run).where(Run.id == run_id).values(
                prompt_tokens=Run.prompt_tokens + total["b_prompt"],
                completion_tokens=Run.completion_tokens + total["b_completion"]))

    async def _still_leased(self, s: AsyncSession, results: Sequence[ItemResult]) -> list[ItemResult]:
        ids = [r.item_id for r in results]
        stmt = select(Item.id, Item.lease_owner).where(Item.id.in_(ids), Item.status == ItemStatus.RUNNING.value)
        if not self._db.is_sqlite:  # SQLite's write transaction already excludes other writers
            stmt = stmt.with_for_update()
        rows = await s.execute(stmt)
        owners = {row[0]: row[1] for row in rows}
        return [r for r in results if owners.get(r.item_id) == r.owner]

    async def _write_outputs(self, s: AsyncSession, result: ItemResult) -> list[dict[str, Any]]:
        """Upsert one item's outputs as elements keyed by (container, run, element, artifact)."""
        insert_ = sqlite_insert if self._db.is_sqlite else pg_insert
        now = utcnow()
        written = []
        for row in result.outputs:
            await s.execute(insert_(Blob).values(sha256=row.sha256, size=row.size, created_at=now)
                            .on_conflict_do_nothing())
            values = {"name": row.filename, "media_type": row.media_type, "size": row.size, "sha256": row.sha256,
                      "metadata": row.metadata, "updated_at": now}
            table = ELEMENTS
            upsert = insert_(table).values(
                id=new_id(Kind.ELEMENT), project_id=result.project_id, container_id=result.output_container_id,
                description=None, source_run_id=result.run_id, source_element_id=result.element_id,
                artifact_name=row.name, created_at=now, **values)
            stmt = upsert.on_conflict_do_update(
                index_elements=["container_id", "source_run_id", "source_element_id", "artifact_name"],
                set_=values).returning(table.c.id)
            element_id = (await s.execute(stmt)).scalar_one()
            written.append({"name": row.name, "type": row.type, "data_element_id": element_id,
                            "datasource_id": result.output_container_id, "filename": row.filename,
                            "media_type": row.media_type, "size_bytes": row.size, "sha256": row.sha256})
        return written

    async def _drop_stale_outputs(self, s: AsyncSession, results: Sequence[ItemResult]) -> None:
        """A failed item keeps no outputs; a succeeded one keeps only this attempt's artifacts."""
        groups: dict[tuple[str, str, frozenset[str]], list[str]] = {}
        for r in results:
            if r.status == ItemStatus.PENDING or r.output_container_id is None:
                continue
            keep = frozenset(o.name for o in r.outputs) if r.status == ItemStatus.SUCCEEDED else frozenset()
            groups.setdefault((r.run_id, r.output_container_id, keep), []).append(r.element_id)
        for (run_id, container_id, keep), element_ids in groups.items():
            stmt = delete(Element).where(Element.container_id == container_id, Element.source_run_id == run_id,
                                         Element.source_element_id.in_(element_ids))
            if keep:
                stmt = stmt.where(Element.artifact_name.not_in(keep))
            await s.execute(stmt)

    async def _set_results(self, s: AsyncSession, status: ItemStatus, group: Sequence[ItemResult],
                           outputs: dict[int, list[dict[str, Any]]], now: datetime) -> None:
        table = ITEMS
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(
            status=status.value, error=bindparam("b_error"), outputs=bindparam("b_outputs"),
            not_before=bindparam("b_not_before"), lease_owner=None, lease_expires_at=None,
            finished_at=None if status == ItemStatus.PENDING else now)
        params = [{"b_id": r.item_id, "b_error": r.error, "b_outputs": outputs.get(r.item_id, []) if
                   status == ItemStatus.SUCCEEDED else None, "b_not_before": r.not_before} for r in group]
        await s.execute(stmt, params)

    async def heartbeat(self, owner: str, item_ids: Sequence[int], lease_until: datetime) -> None:
        async with self._db.write() as s:
            await s.execute(update(Item).where(Item.id.in_(item_ids), Item.lease_owner == owner,
                                               Item.status == ItemStatus.RUNNING.value)
                            .values(lease_expires_at=lease_until))

    async def cancel_open(self, run_id: str) -> int:
        """Cancel: PENDING and RUNNING items of the run become CANCELLED."""
        now = utcnow()
        total = 0
        for status in (ItemStatus.PENDING, ItemStatus.RUNNING):
            total += await self._move(run_id, status, ItemStatus.CANCELLED, finished_at=now, lease_owner=None,
                                      lease_expires_at=None)
        return total

    async def reopen(self, run_id: str, status: ItemStatus) -> int:
        """retry-failed (FAILED) or resume (CANCELLED): back to PENDING; attempts keep counting."""
        return await self._move(run_id, status, ItemStatus.PENDING, not_before=None, finished_at=None,
                                lease_losses=0)

    async def _move(self, run_id: str, old: ItemStatus, new: ItemStatus, **values: Any) -> int:
        require_item_move(old, new)
        async with self._db.write() as s:
            result = await s.execute(update(Item).where(Item.run_id == run_id, Item.status == old.value)
                                     .values(status=new.value, **values))
            moved = int(result.rowcount)  # type: ignore[attr-defined]
            await move_counters(s, Counter({(run_id, old): -moved, (run_id, new): moved}))
            return moved

    async def recover_expired(self, max_lease_losses: int) -> int:
        """Items whose lease ran out (their worker died) go back to PENDING with the attempt given back;
        an item that lost ``max_lease_losses`` leases fails instead, so a file that kills workers cannot
        loop forever."""
        expired = (Item.status == ItemStatus.RUNNING.value) & (Item.lease_expires_at < utcnow())
        async with self._db.write() as s:
            doomed = expired & (Item.lease_losses + 1 >= max_lease_losses)
            failed = await s.execute(update(Item).where(doomed).values(
                status=ItemStatus.FAILED.value, lease_owner=None, lease_expires_at=None, finished_at=utcnow(),
                lease_losses=Item.lease_losses + 1,
                error=f"the worker running this item stopped {max_lease_losses} times (crash or kill); "
                      "giving up").returning(Item.run_id))
            failed_runs = list(failed.scalars())
            returned = await s.execute(update(Item).where(expired).values(
                status=ItemStatus.PENDING.value, lease_owner=None, lease_expires_at=None,
                attempts=self._previous_attempt(), lease_losses=Item.lease_losses + 1).returning(Item.run_id))
            returned_runs = list(returned.scalars())
            deltas = _deltas(failed_runs, ItemStatus.RUNNING, ItemStatus.FAILED)
            deltas.update(_deltas(returned_runs, ItemStatus.RUNNING, ItemStatus.PENDING))
            await move_counters(s, deltas)
            return len(failed_runs) + len(returned_runs)

    async def release(self, owner: str, item_ids: Sequence[int]) -> int:
        """A stopping process hands its running items back (PENDING, attempt given back)."""
        async with self._db.write() as s:
            result = await s.execute(update(Item).where(
                Item.status == ItemStatus.RUNNING.value, Item.lease_owner == owner, Item.id.in_(item_ids))
                .values(status=ItemStatus.PENDING.value, lease_owner=None, lease_expires_at=None,
                        attempts=self._previous_attempt()).returning(Item.run_id))
            run_ids = list(result.scalars())
            await move_counters(s, _deltas(run_ids, ItemStatus.RUNNING, ItemStatus.PENDING))
            return len(run_ids)

    def _previous_attempt(self) -> ColumnElement[int]:
        if self._db.is_sqlite:
            return func.max(Item.attempts - 1, 0)
        return func.greatest(Item.attempts - 1, 0)


def _deltas(run_ids: Iterable[str], old: ItemStatus, new: ItemStatus) -> Counter[tuple[str, ItemStatus]]:
    deltas: Counter[tuple[str, ItemStatus]] = Counter()
    for run_id in run_ids:
        deltas[(run_id, old)] -= 1
        deltas[(run_id, new)] += 1
    return deltas
