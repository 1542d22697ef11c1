"""/v2/datasources/{id}/data-elements: list, search, get, update, and the element's bytes."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w
from conveyor.domain.rules import ElementFilter, validate_regex
from conveyor.store.containers import ElementPage

router = APIRouter(prefix="/datasources/{datasource_id}/data-elements", tags=["Data Elements"])
PageLimit = Query(default=100, ge=1, le=1000)


def _page(page: ElementPage) -> w.DataElementListResponse:
    return w.DataElementListResponse(items=[convert.element(e) for e in page.elements],
                                     next_cursor=page.next_cursor, has_next=page.next_cursor is not None)


@router.get("", response_model=w.DataElementListResponse)
async def list_elements(datasource_id: str, core: CoreDep, project: ProjectDep, cursor: str | None = None,
                        limit: int = PageLimit) -> w.DataElementListResponse:
    return _page(await core.containers.page_elements(project.id, datasource_id, cursor=cursor, limit=limit))


@router.post("/search", response_model=w.DataElementListResponse)
async def search_elements(datasource_id: str, body: w.DataElementSearchRequest, core: CoreDep,
                          project: ProjectDep, cursor: str | None = None,
                          limit: int = PageLimit) -> w.DataElementListResponse:
    regex = validate_regex(body.regex_filter, ("body", "regex_filter"))
    media = tuple(body.media_type_filters) if body.media_type_filters else None
    page = await core.containers.page_elements(project.id, datasource_id, cursor=cursor, limit=limit,
                                               element_filter=ElementFilter(regex=regex, media_types=media))
    return _page(page)


@router.get("/{data_element_id}", response_model=w.DataElementResponse)
async def get_element(datasource_id: str, data_element_id: str, core: CoreDep,
                      project: ProjectDep) -> w.DataElementResponse:
    return convert.element(await core.containers.get_element(project.id, datasource_id, data_element_id))


@router.put("/{data_element_id}", response_model=w.DataElementResponse)
async def update_element(datasource_id: str, data_element_id: str, body: w.UpdateDataElementRequest,
                         core: CoreDep, project: ProjectDep) -> w.DataElementResponse:
    element = await core.containers.update_element(
        project.id, datasource_id, data_element_id, name=body.name, description=body.description,
        meta=body.metadata)
    return convert.element(element)


@router.get("/{data_element_id}/content", response_class=StreamingResponse)
async def element_content(datasource_id: str, data_element_id: str, core: CoreDep,
                          project: ProjectDep) -> StreamingResponse:
    """The element's bytes, streamed."""
    element = await core.containers.get_element(project.id, datasource_id, data_element_id)
    quoted = quote(element.name, safe="")
    return StreamingResponse(core.containers.element_bytes(element), media_type=element.media_type,
                             headers={"Content-Length": str(element.size), "ETag": f'"{element.sha256}"',
                                      "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"})
