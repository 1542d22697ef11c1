"""/v2/batches/multipart-upload: sessions for large files — start, upload parts, commit or abort."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response, status

from conveyor.api.aihub import ids
from conveyor.api.aihub import schemas as w
from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.services.upload_sessions import PartRef

router = APIRouter(prefix="/batches/multipart-upload", tags=["AI Hub: Multipart upload"])


@router.post("", response_model=w.MultipartUploadSessionResponse, status_code=status.HTTP_201_CREATED)
async def create_session(body: w.CreateMultipartUploadSessionRequest, request: Request, response: Response,
                         core: CoreDep, project: ProjectDep) -> w.MultipartUploadSessionResponse:
    """Every part but the last must be ``part_size`` bytes; the last completes ``file_size``."""
    container = await ids.container_of(core, project, body.batch_id)
    session = await core.upload_sessions.start(project.id, container, body.filename, body.file_size)
    response.headers["Location"] = str(request.url_for("commit_session", session_id=session.id))
    return w.MultipartUploadSessionResponse(session_id=session.id, part_size=session.part_size)


@router.put("/sessions/{session_id}/parts/{part_num}", response_model=w.MultipartUploadPartResponse,
            status_code=status.HTTP_201_CREATED)
async def upload_part(session_id: str, request: Request, core: CoreDep, project: ProjectDep,
                      part_num: int = Path(ge=1)) -> w.MultipartUploadPartResponse:
    """The body is the part's bytes. Parts may come in any order; re-sending a number replaces it."""
    part = await core.upload_sessions.put_part(project.id, session_id, part_num, request.stream())
    return w.MultipartUploadPartResponse(part_id=part.part_id, part_num=part.part_num)


@router.post("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             name="commit_session")
async def commit_session(session_id: str, body: w.CommitMultipartUploadSessionRequest, core: CoreDep,
                         project: ProjectDep) -> Response:
    """``commit`` with every part listed in order (a mismatch discards the session), or ``abort``."""
    if body.action == "abort":
        await core.upload_sessions.abort(project.id, session_id)
    else:
        await core.upload_sessions.commit(project.id, session_id,
                                          [PartRef(p.part_num, p.part_id) for p in body.parts or []])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
