"""What every LlamaCloud route works with: the core, the calling project and its LlamaCloud ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.ids import IdKind, LlamaIds
from conveyor.api.signing import UrlSigner
from conveyor.services.core import Core
from conveyor.store.models import Project

DOWNLOAD_ROUTE = "llamacloud_download"


@dataclass(frozen=True)
class Ctx:
    core: Core
    project: Project
    ids: LlamaIds
    project_ref: str  # the project's LlamaCloud id (``prj-…``)
    request: Request

    def download_url(self, file_id: str, seconds: int | None = None) -> w.PresignedURL:
        """A presigned URL for a file's bytes."""
        signer: UrlSigner = self.request.app.state.url_signer
        route = str(self.request.url_for(DOWNLOAD_ROUTE, file_id=file_id))
        url, expires_at = signer.url(route, self.project.id, file_id, *(() if seconds is None else (seconds,)))
        return w.PresignedURL(url=url, expires_at=expires_at)


async def get_ctx(request: Request, core: CoreDep, project: ProjectDep) -> Ctx:
    ids = LlamaIds(core.face_ids, project.id)
    return Ctx(core=core, project=project, ids=ids, project_ref=await ids.external(IdKind.PROJECT, project.id),
               request=request)


CtxDep = Annotated[Ctx, Depends(get_ctx)]


def expansions(values: list[str] | None) -> set[str]:
    """``expand`` as a set, whether sent repeated (``expand=a&expand=b``) or comma-separated (``a,b``)."""
    return {part.strip() for value in values or () for part in value.split(",") if part.strip()}
