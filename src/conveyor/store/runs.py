"""Runs and their items: creation over a frozen element set, claiming work, recording results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select, update

from conveyor.domain.rules import ElementFilter
from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.store.containers import apply_filter
from conveyor.store.database import Database
from conveyor.store.models import Element, Item, Run
from conveyor.store.types import utcnow

ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.THROTTLED)


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    total: int


@dataclass(frozen=True)
class ItemPage:
    items: list[Item]
    next_cursor: int | None


class RunsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, run: Run, element_filter: ElementFilter) -> Run:
        """Insert the run and one PENDING item per matching element, in SQL: no element is loaded."""
        chosen = apply_filter(
            select(literal(run.id), Element.id, Element.name, literal(ItemStatus.PENDING.value), literal(0))
            .where(Element.container_id == run.input_container_id), element_filter).order_by(Element.id)
        async with self._db.write() as s:
            s.add(run)
            await s.flush()
            await s.execute(insert(Item).from_select(
                ["run_id", "element_id", "element_name", "status", "attempts"], chosen))
            total = (await s.execute(select(func.count()).select_from(Item).where(Item.run_id == run.id)))
            run.total_items = int(total.scalar_one())
        return run

    async def get(self, project_id: str, run_id: str) -> Run | None:
        async with self._db.read() as s:
            run = await s.get(Run, run_id)
            return run if run is not None and run.project_id == project_id else None

    async def get_any(self, run_id: str) -> Run | None:
        async with self._db.read() as s:
            return await s.get(Run, run_id)

    async def search(self, project_id: str, *, input_container_id: str | None, offset: int, limit: int | None,
                   sort_by: str, descending: bool) -> RunPage:
        stmt = select(Run).where(Run.project_id == project_id)
        if input_container_id:
            stmt = stmt.where(Run.input_container_id == input_container_id)
        column = Run.status if sort_by == "status" else Run.start_time
        stmt = stmt.order_by(column.desc() if descending else column.asc(), Run.id)
        async with self._db.read() as s:
            total = int((await s.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
            paged = stmt.offset(offset) if limit is None else stmt.offset(offset).limit(limit)
            return RunPage(list(await s.scalars(paged)), total)

    async def active(self) -> list[Run]:
        async with self._db.read() as s:
            return list(await s.scalars(select(Run).where(Run.status.in_(ACTIVE_RUN_STATUSES)).order_by(Run.id)))

    async def set_status(self, run_id: str, new: RunStatus, allowed_from: Sequence[RunStatus], *,
                         error: str | None = None, end_time: datetime | None = None) -> bool:
        """Move a run to ``new`` only from one of ``allowed_from``; True if it moved."""
        values: dict[str, Any] = {"status": new.value, "updated_at": utcnow(), "end_time": end_time}
        if error is not None:
            values["error"] = error
        async with self._db.write() as s:
            result = await s.execute(update(Run).where(
                Run.id == run_id, Run.status.in_([a.value for a in allowed_from])).values(**values))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update_fields(self, run_id: str, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(update(Run).where(Run.id == run_id).values(updated_at=utcnow(), **values))

    async def counts(self, run_id: str) -> dict[ItemStatus, int]:
        stmt = select(Item.status, func.count()).where(Item.run_id == run_id).group_by(Item.status)
        async with self._db.read() as s:
            rows = (await s.execute(stmt)).all()
        counts = dict.fromkeys(ItemStatus, 0)
        for status, n in rows:
            counts[ItemStatus(status)] = int(n)
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

    async def claim(self, run_id: str, limit: int, owner: str, lease_until: datetime) -> list[Item]:
        """Lease up to ``limit`` due PENDING items of a run to ``owner`` (attempts +1)."""
        now = utcnow()
        due = (select(Item.id).where(Item.run_id == run_id, Item.status == ItemStatus.PENDING.value,
                                     (Item.not_before.is_(None)) | (Item.not_before <= now))
               .order_by(Item.id).limit(limit))
        if not self._db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        stmt = (update(Item).where(Item.id.in_(due.scalar_subquery()))
                .values(status=ItemStatus.RUNNING.value, lease_owner=owner, lease_expires_at=lease_until,
                        attempts=Item.attempts + 1, started_at=now, error=None)
                .returning(Item))
        async with self._db.write() as s:
            return list(await s.scalars(stmt))

    async def next_due(self, run_id: str) -> datetime | None:
        """When the earliest waiting (backed-off) PENDING item of the run becomes due."""
        stmt = select(func.min(Item.not_before)).where(
            Item.run_id == run_id, Item.status == ItemStatus.PENDING.value)
        async with self._db.read() as s:
            value: datetime | None = (await s.execute(stmt)).scalar()
        return value

    async def finish(self, item_id: int, owner: str, status: ItemStatus, *, error: str | None = None,
                     outputs: list[dict[str, Any]] | None = None) -> bool:
        """Record a terminal result, fenced by the lease: a stale owner writes nothing."""
        return await self._fenced(item_id, owner, status=status.value, error=error, outputs=outputs,
                                  finished_at=utcnow(), lease_owner=None, lease_expires_at=None)

    async def requeue(self, item_id: int, owner: str, *, error: str, not_before: datetime) -> bool:
        return await self._fenced(item_id, owner, status=ItemStatus.PENDING.value, error=error,
                                  not_before=not_before, lease_owner=None, lease_expires_at=None)

    async def _fenced(self, item_id: int, owner: str, **values: Any) -> bool:
        async with self._db.write() as s:
            result = await s.execute(update(Item).where(
                Item.id == item_id, Item.lease_owner == owner,
                Item.status == ItemStatus.RUNNING.value).values(**values))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def heartbeat(self, owner: str, item_ids: Sequence[int], lease_until: datetime) -> None:
        async with self._db.write() as s:
            await s.execute(update(Item).where(Item.id.in_(item_ids), Item.lease_owner == owner,
                                               Item.status == ItemStatus.RUNNING.value)
                            .values(lease_expires_at=lease_until))

    async def cancel_pending(self, run_id: str) -> int:
        return await self._bulk(run_id, [ItemStatus.PENDING], status=ItemStatus.CANCELLED.value,
                                finished_at=utcnow())

    async def cancel_running(self, run_id: str) -> int:
        return await self._bulk(run_id, [ItemStatus.RUNNING], status=ItemStatus.CANCELLED.value,
                                finished_at=utcnow(), lease_owner=None, lease_expires_at=None)

    async def reopen(self, run_id: str, statuses: Sequence[ItemStatus]) -> int:
        """retry-failed: FAILED (or CANCELLED) items go back to PENDING; attempts keep counting."""
        return await self._bulk(run_id, statuses, status=ItemStatus.PENDING.value, not_before=None,
                                finished_at=None)

    async def _bulk(self, run_id: str, statuses: Sequence[ItemStatus], **values: Any) -> int:
        async with self._db.write() as s:
            result = await s.execute(update(Item).where(
                Item.run_id == run_id, Item.status.in_([st.value for st in statuses])).values(**values))
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def recover_expired(self) -> int:
        """Items whose lease ran out go back to PENDING; the lost attempt is given back."""
        return await self._give_back(Item.lease_expires_at < utcnow())

    async def release(self, owner: str, item_ids: Sequence[int]) -> int:
        """A stopping process hands its running items back (PENDING, attempt given back)."""
        return await self._give_back(Item.lease_owner == owner, Item.id.in_(item_ids))

    async def _give_back(self, *conditions: Any) -> int:
        previous = func.max(Item.attempts - 1, 0) if self._db.is_sqlite else func.greatest(Item.attempts - 1, 0)
        async with self._db.write() as s:
            result = await s.execute(update(Item).where(Item.status == ItemStatus.RUNNING.value, *conditions)
                                     .values(status=ItemStatus.PENDING.value, lease_owner=None,
                                             lease_expires_at=None, attempts=previous))
            return int(result.rowcount)  # type: ignore[attr-defined]
