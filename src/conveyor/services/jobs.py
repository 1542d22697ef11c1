"""Background jobs (deleting a container, say) that callers start and then poll.

A job is a row first and a task second: a job whose server stopped before it finished runs again on the
next start, so its work must be safe to repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from conveyor.domain.ids import Kind, new_id
from conveyor.errors import ConveyorError, NotFoundError
from conveyor.services.background import STOP_GRACE_SECONDS, finish_or_cancel
from conveyor.store.jobs import JobsRepo
from conveyor.store.models import Job
from conveyor.store.types import utcnow

log = logging.getLogger("conveyor.jobs")
PENDING, RUNNING, COMPLETE, FAILED = "PENDING", "RUNNING", "COMPLETE", "FAILED"

Handler = Callable[[str, str], Awaitable[None]]
"""``handler(project_id, target_id)``: the work of one kind of job."""


class JobsService:
    def __init__(self, jobs: JobsRepo) -> None:
        self._jobs = jobs
        self._handlers: dict[str, Handler] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def submit(self, project_id: str, kind: str, target_id: str) -> Job:
        if kind not in self._handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        job = await self._jobs.add(Job(id=new_id(Kind.JOB), project_id=project_id, kind=kind, target_id=target_id,
                                       state=PENDING, message=None, created_at=utcnow(), finished_at=None))
        self._spawn(job)
        return job

    async def get(self, project_id: str, job_id: str) -> Job:
        job = await self._jobs.get(project_id, job_id)
        if job is None:
            raise NotFoundError(f"job {job_id} not found")
        return job

    async def resume(self) -> int:
        """Run again the jobs a stopped server left unfinished."""
        jobs = [j for j in await self._jobs.unfinished() if j.kind in self._handlers]
        for job in jobs:
            self._spawn(job)
        return len(jobs)

    async def close(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let running jobs finish (up to ``grace`` seconds); a job cut short runs again on the next start."""
        await finish_or_cancel(set(self._tasks), grace)

    def _spawn(self, job: Job) -> None:
        task = asyncio.create_task(self._run(job), name=f"conveyor-job-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job) -> None:
        await self._jobs.set(job.id, state=RUNNING)
        try:
            await self._handlers[job.kind](job.project_id, job.target_id)
        except ConveyorError as e:
            await self._finish(job, FAILED, e.message)
            return
        except Exception as e:
            log.exception("job %s (%s) failed", job.id, job.kind)
            await self._finish(job, FAILED, f"{type(e).__name__}: {e}")
            return
        await self._finish(job, COMPLETE, "done")

    async def _finish(self, job: Job, state: str, message: str) -> None:
        await self._jobs.set(job.id, state=state, message=message, finished_at=utcnow())
