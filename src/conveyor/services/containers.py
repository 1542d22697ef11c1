"""Containers (datasources), their elements, uploads into them and ingest state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conveyor.blobs import BlobStore
from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import ElementFilter
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.processors.parse.formats import detect_media_type
from conveyor.store.containers import ContainersRepo, ElementPage, ElementQuery, ElementsRepo
from conveyor.store.models import Container, Element, Upload
from conveyor.store.transfers import TransfersRepo
from conveyor.store.types import utcnow

MAX_PAGE = 1000
UPLOAD_SAVE_SECONDS = 0.25
GENERIC_MEDIA_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


@dataclass(frozen=True)
class IncomingFile:
    """One file of an upload as it arrives: a name, the sender's media type and its bytes in chunks."""

    name: str
    media_type: str | None
    chunks: AsyncIterator[bytes]


class ContainersService:
    def __init__(self, containers: ContainersRepo, elements: ElementsRepo, transfers: TransfersRepo,
                 blobs: BlobStore, max_upload_bytes: int) -> None:
        self._containers = containers
        self._elements = elements
        self._transfers = transfers
        self._blobs = blobs
        self._max_upload_bytes = max_upload_bytes
        self._upload_saved: dict[str, float] = {}

    # containers ---------------------------------------------------------------------------------
    async def create(self, project_id: str, name: str, description: str = "", kind: str = "upload",
                     extra: dict[str, Any] | None = None) -> Container:
        if not name.strip():
            raise InvalidInputError("name must not be empty", loc=("body", "name"))
        now = utcnow()
        return await self._containers.add(Container(
            id=new_id(Kind.CONTAINER), project_id=project_id, name=name, description=description or "",
            kind=kind, extra=extra or {}, created_at=now, updated_at=now, last_ingest_at=None,
            last_ingest_status=None))

    async def find(self, project_id: str, container_id: str) -> Container | None:
        return await self._containers.get(project_id, container_id)

    async def get(self, project_id: str, container_id: str) -> Container:
        container = await self._containers.get(project_id, container_id)
        if container is None:
            raise NotFoundError(f"datasource {container_id} not found")
        return container

    async def list(self, project_id: str) -> list[Container]:
        return await self._containers.list(project_id)

    async def update(self, project_id: str, container_id: str, **values: Any) -> Container:
        await self.get(project_id, container_id)
        changes = {k: v for k, v in values.items() if v is not None}
        if changes:
            await self._containers.update(container_id, **changes)
        return await self.get(project_id, container_id)

    async def delete(self, project_id: str, container_id: str) -> None:
        await self.get(project_id, container_id)
        await self._containers.delete(container_id)

    async def delete_if_present(self, project_id: str, container_id: str) -> None:
        """Delete the container if it (still) exists: for jobs that may run twice."""
        if await self.find(project_id, container_id) is not None:
            await self._containers.delete(container_id)

    async def count(self, container_id: str) -> int:
        return await self._containers.count_elements(container_id)

    # elements -----------------------------------------------------------------------------------
    async def add_file(self, project_id: str, container: Container, incoming: IncomingFile, *,
                       replace: bool = False) -> Element:
        """Stream one file into blob storage (hashing as it goes) and make it an element at once; with
        ``replace`` it takes the place of the container's elements of the same name."""
        writer = self._blobs.writer(self._max_upload_bytes)
        head = b""
        try:
            async for chunk in incoming.chunks:
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                await writer.write(chunk)
        except BaseException:
            await writer.abort()
            raise
        blob = await writer.commit()
        media_type = incoming.media_type
        if media_type is None or media_type.split(";")[0].strip() in GENERIC_MEDIA_TYPES:
            media_type = detect_media_type(incoming.name, head)
        now = utcnow()
        element = Element(
            id=new_id(Kind.ELEMENT), project_id=project_id, container_id=container.id, name=incoming.name,
            description=None, media_type=media_type, size=blob.size, sha256=blob.sha256, meta={},
            source_run_id=None, source_element_id=None, artifact_name=None, created_at=now, updated_at=now)
        if replace:
            return await self._elements.add_replacing(element, blob.size)
        return await self._elements.add(element, blob.size)

    async def delete_file(self, project_id: str, container_id: str, name: str) -> None:
        """Delete the container's element(s) called ``name``; 404 if there is none."""
        await self.get(project_id, container_id)
        if not await self._elements.delete_named(container_id, name):
            raise NotFoundError(f"file {name!r} not found")

    async def get_element(self, project_id: str, container_id: str, element_id: str) -> Element:
        await self.get(project_id, container_id)
        element = await self._elements.get(container_id, element_id)
        if element is None:
            raise NotFoundError(f"data element {element_id} not found")
        return element

    async def page_elements(self, project_id: str, container_id: str, *, cursor: str | None, limit: int,
                            element_filter: ElementFilter | None = None, name_prefix: str | None = None,
                            query: ElementQuery | None = None) -> ElementPage:
        await self.get(project_id, container_id)
        return await self._elements.page(container_id, cursor=cursor, limit=min(max(limit, 1), MAX_PAGE),
                                         element_filter=element_filter, name_prefix=name_prefix, query=query)

    async def update_element(self, project_id: str, container_id: str, element_id: str,
                             **values: Any) -> Element:
        await self.get_element(project_id, container_id, element_id)
        changes = {k: v for k, v in values.items() if v is not None}
        if "name" in changes and not str(changes["name"]).strip():
            raise InvalidInputError("name must not be empty", loc=("body", "name"))
        updated = await self._elements.update(element_id, **changes)
        assert updated is not None
        return updated

    async def find_element(self, project_id: str, element_id: str) -> Element | None:
        """An element of the project, whichever container holds it."""
        found = (await self._elements.get_many([element_id])).get(element_id)
        return found if found is not None and found.project_id == project_id else None

    async def delete_element(self, project_id: str, container_id: str, element_id: str) -> None:
        """Delete one element; its blob stays for the other elements (and outputs) that share it."""
        await self.get_element(project_id, container_id, element_id)
        await self._elements.delete(element_id)

    async def copy_element(self, project_id: str, source: Element, container: Container, name: str,
                           meta: dict[str, Any]) -> Element:
        """A new element of ``container`` with the bytes of ``source`` (the same blob, nothing copied)."""
        if not name.strip():
            raise InvalidInputError("name must not be empty", loc=("body", "name"))
        now = utcnow()
        return await self._elements.add(Element(
            id=new_id(Kind.ELEMENT), project_id=project_id, container_id=container.id, name=name,
            description=None, media_type=source.media_type, size=source.size, sha256=source.sha256, meta=meta,
            source_run_id=None, source_element_id=None, artifact_name=None, created_at=now,
            updated_at=now), source.size)

    async def read_element(self, element: Element) -> bytes:
        """An element's whole content: for small outputs (parsed text, extracted JSON) only."""
        return b"".join([chunk async for chunk in self._blobs.iter_bytes(element.sha256)])

    def element_bytes(self, element: Element) -> AsyncIterator[bytes]:
        return self._blobs.iter_bytes(element.sha256)

    def blob_path(self, element: Element) -> Path:
        return self._blobs.local_path(element.sha256)

    # uploads ------------------------------------------------------------------------------------
    async def begin_upload(self, project_id: str, container_id: str) -> Upload:
        return await self._transfers.add_upload(Upload(
            id=new_id(Kind.UPLOAD), project_id=project_id, container_id=container_id, status="running",
            files=[], total_bytes=0, error=None, created_at=utcnow(), finished_at=None))

    async def record_upload_file(self, upload: Upload, element: Element) -> None:
        """Note a stored file; the record is saved at most every ``UPLOAD_SAVE_SECONDS`` while it runs."""
        upload.files = [*upload.files, {"name": element.name, "data_element_id": element.id,
                                        "size": element.size, "media_type": element.media_type}]
        upload.total_bytes += element.size
        now = time.monotonic()
        if now - self._upload_saved.get(upload.id, 0.0) >= UPLOAD_SAVE_SECONDS:
            self._upload_saved[upload.id] = now
            await self._transfers.save_upload(upload.id, files=upload.files, total_bytes=upload.total_bytes)

    async def finish_upload(self, upload: Upload, error: str | None = None) -> None:
        self._upload_saved.pop(upload.id, None)
        await self._transfers.save_upload(upload.id, status="failed" if error else "completed", error=error,
                                          files=upload.files, total_bytes=upload.total_bytes,
                                          finished_at=utcnow())

    async def get_upload(self, project_id: str, upload_id: str) -> Upload:
        upload = await self._transfers.get_upload(upload_id)
        if upload is None or upload.project_id != project_id:
            raise NotFoundError(f"upload {upload_id} not found")
        return upload

    # ingest -------------------------------------------------------------------------------------
    async def trigger_ingest(self, project_id: str, container_id: str) -> Container:
        """Every uploaded file is an element at once, so ingest only records that it is complete."""
        await self.get(project_id, container_id)
        await self._containers.update(container_id, last_ingest_at=utcnow(), last_ingest_status="completed")
        return await self.get(project_id, container_id)
