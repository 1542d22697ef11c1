"""Cron ticks: one row per (recipe lineage, fire time), unique, so a tick fires once across replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from conveyor.store.database import Database
from conveyor.store.models import Fire, Recipe
from conveyor.store.types import utcnow


class FiresRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def scheduled_recipes(self) -> list[Recipe]:
        """The newest live version of every lineage that has a cron expression."""
        newest = (select(Recipe.lineage_id, func.max(Recipe.version).label("v"))
                  .where(Recipe.deleted_at.is_(None)).group_by(Recipe.lineage_id).subquery())
        stmt = (select(Recipe).join(newest, (Recipe.lineage_id == newest.c.lineage_id)
                                    & (Recipe.version == newest.c.v))
                .where(Recipe.recurrence_cron.is_not(None)))
        async with self._db.read() as s:
            return list(await s.scalars(stmt))

    async def claim_tick(self, lineage_id: str, fire_time: datetime, recipe_id: str, fired_by: str,
                         at: datetime | None = None) -> bool:
        """Record the tick; True only for the one caller whose insert made the row."""
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        stmt = insert(Fire).values(lineage_id=lineage_id, fire_time=fire_time, recipe_id=recipe_id,
                                   fired_by=fired_by, created_at=at or utcnow()).on_conflict_do_nothing()
        async with self._db.write() as s:
            result = await s.execute(stmt)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def unstarted(self, older_than: datetime) -> list[tuple[Fire, str]]:
        """Ticks recorded but with no run (the process that recorded them died before starting it), each
        with the project of the recipe version it fired."""
        async with self._db.read() as s:
            stmt = (select(Fire, Recipe.project_id).join(Recipe, Recipe.id == Fire.recipe_id)
                    .where(Fire.run_id.is_(None), Fire.created_at < older_than))
            return [(row[0], row[1]) for row in await s.execute(stmt)]

    async def set_run(self, fire_id: int, run_id: str) -> None:
        async with self._db.write() as s:
            await s.execute(update(Fire).where(Fire.id == fire_id).values(run_id=run_id))

    async def for_lineage(self, lineage_id: str) -> list[Fire]:
        async with self._db.read() as s:
            return list(await s.scalars(select(Fire).where(Fire.lineage_id == lineage_id).order_by(Fire.fire_time)))

    async def find(self, lineage_id: str, fire_time: datetime) -> Fire | None:
        async with self._db.read() as s:
            stmt = select(Fire).where(Fire.lineage_id == lineage_id, Fire.fire_time == fire_time)
            return (await s.scalars(stmt)).first()
