"""/v2/jobs/{job_id}: the state of a background job (the same jobs as /v2/batches/jobs/{job_id})."""

from __future__ import annotations

from fastapi import APIRouter

from conveyor.api.aihub import schemas as w
from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.services.core import Core
from conveyor.store.models import Project

router = APIRouter(prefix="/jobs", tags=["AI Hub: Jobs"])


async def job_status(core: Core, project: Project, job_id: str) -> w.JobStatusResponse:
    job = await core.jobs.get(project.id, job_id)
    return w.JobStatusResponse(state=job.state, message=job.message)


@router.get("/{job_id}", response_model=w.JobStatusResponse)
async def get_job_status(job_id: str, core: CoreDep, project: ProjectDep) -> w.JobStatusResponse:
    return await job_status(core, project, job_id)
