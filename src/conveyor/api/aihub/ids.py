"""AI Hub's integer batch ids, kept in the face-id table (never derived from core ids)."""

from __future__ import annotations

from conveyor.errors import NotFoundError
from conveyor.services.core import Core
from conveyor.store.face_ids import FaceKey
from conveyor.store.models import Container, Project

FACE = "aihub"
BATCH = "batch"


def batch_key(project: Project) -> FaceKey:
    return FaceKey(project.id, FACE, BATCH)


async def create_batch(core: Core, project: Project, name: str, workspace: str | None) -> int:
    """A new container for the batch, and its batch id."""
    container = await core.containers.create(project.id, name, extra={"aihub": {"workspace": workspace}})
    try:
        return await core.face_ids.allocate_number(batch_key(project), container.id)
    except BaseException:
        await core.containers.delete(project.id, container.id)
        raise


async def container_of(core: Core, project: Project, batch_id: int) -> Container:
    core_id = await core.face_ids.core_id(batch_key(project), str(batch_id))
    container = await core.containers.find(project.id, core_id) if core_id is not None else None
    if container is None:
        raise NotFoundError(f"batch {batch_id} not found")
    return container


async def batch_id_of(core: Core, project: Project, container_id: str) -> int | None:
    """The batch id of a container, if it is (still) a batch."""
    found = await core.face_ids.external_id(batch_key(project), container_id)
    return int(found) if found is not None else None
