"""Immutable, versioned rows (agents, artifact schemas, recipes): one row per version, one lineage id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Mapped

from conveyor.store.database import Database
from conveyor.store.models import Agent, ArtifactSchema, Recipe
from conveyor.store.types import utcnow


class VersionedRow(Protocol):
    id: Mapped[str]
    project_id: Mapped[str]
    lineage_id: Mapped[str]
    version: Mapped[int]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


R = TypeVar("R", Agent, ArtifactSchema, Recipe)


@dataclass(frozen=True)
class Page(Generic[R]):
    rows: list[R]
    total: int


class VersionedRepo(Generic[R]):
    """Create a lineage, fork a version, read versions, soft-delete a lineage."""

    def __init__(self, db: Database, model: type[R]) -> None:
        self._db = db
        self._model: type[R] = model

    async def add(self, row: R) -> R:
        async with self._db.write() as s:
            s.add(row)
        return row

    async def get(self, project_id: str, row_id: str, *, include_deleted: bool = False) -> R | None:
        async with self._db.read() as s:
            row = await s.get(self._model, row_id)
        if row is None or row.project_id != project_id:
            return None
        return row if include_deleted or row.deleted_at is None else None

    async def fork(self, row: R) -> R:
        """Insert ``row`` as the next version of its lineage (the caller fills everything but version)."""
        m = self._model
        async with self._db.write() as s:
            top = (await s.execute(select(func.max(m.version)).where(m.lineage_id == row.lineage_id))).scalar()
            row.version = int(top or 0) + 1
            s.add(row)
        return row

    async def list_latest(self, project_id: str, offset: int, limit: int | None) -> Page[R]:
        """The newest version of each live lineage, oldest lineage first."""
        m = self._model
        newest = (select(m.lineage_id, func.max(m.version).label("v"))
                  .where(m.project_id == project_id, m.deleted_at.is_(None))
                  .group_by(m.lineage_id).subquery())
        stmt = select(m).join(newest, (m.lineage_id == newest.c.lineage_id) & (m.version == newest.c.v))
        return await self._page(stmt.order_by(m.lineage_id), offset, limit)

    async def versions(self, lineage_id: str, offset: int, limit: int | None) -> Page[R]:
        m = self._model
        stmt = select(m).where(m.lineage_id == lineage_id).order_by(m.version)
        return await self._page(stmt, offset, limit)

    async def _page(self, stmt: Select[R], offset: int, limit: int | None) -> Page[R]:
        async with self._db.read() as s:
            total = int((await s.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())
            paged = stmt.offset(offset)
            if limit is not None:
                paged = paged.limit(limit)
            return Page(list(await s.scalars(paged)), total)

    async def soft_delete(self, lineage_id: str) -> None:
        m = self._model
        async with self._db.write() as s:
            await s.execute(update(m).where(m.lineage_id == lineage_id, m.deleted_at.is_(None))
                            .values(deleted_at=utcnow()))

    async def set_fields(self, row_id: str, **values: object) -> None:
        async with self._db.write() as s:
            await s.execute(update(self._model).where(self._model.id == row_id).values(**values))
