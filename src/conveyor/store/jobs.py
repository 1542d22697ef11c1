"""Background jobs that callers poll."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from conveyor.store.database import Database
from conveyor.store.models import Job

UNFINISHED = ("PENDING", "RUNNING")


class JobsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, job: Job) -> Job:
        async with self._db.write() as s:
            s.add(job)
        return job

    async def get(self, project_id: str, job_id: str) -> Job | None:
        async with self._db.read() as s:
            found = await s.get(Job, job_id)
        return found if found is not None and found.project_id == project_id else None

    async def set(self, job_id: str, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(update(Job).where(Job.id == job_id).values(**values))

    async def unfinished(self) -> list[Job]:
        async with self._db.read() as s:
            return list(await s.scalars(select(Job).where(Job.state.in_(UNFINISHED)).order_by(Job.id)))
