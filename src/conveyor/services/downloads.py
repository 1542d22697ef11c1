"""Zip exports of a container: streamed member by member, never built in memory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_IFREG
from typing import Any

from stream_zip import ZIP_64, stream_zip

from conveyor.blobs import BlobStore
from conveyor.domain.ids import Kind, new_id
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.services.containers import ContainersService
from conveyor.store.containers import ElementsRepo
from conveyor.store.models import Download, Element
from conveyor.store.transfers import TransfersRepo
from conveyor.store.types import utcnow

log = logging.getLogger("conveyor.downloads")
CONTENT_CHOICES = ("files", "parsed_content", "files_and_parsed_content")
PAGE = 500


@dataclass(frozen=True)
class Member:
    """One file of the archive: its name inside the zip and where its bytes are."""

    name: str
    path: Path
    modified: datetime


class DownloadsService:
    def __init__(self, containers: ContainersService, elements: ElementsRepo, transfers: TransfersRepo,
                 blobs: BlobStore, work_dir: Path) -> None:
        self._containers = containers
        self._elements = elements
        self._transfers = transfers
        self._blobs = blobs
        self._dir = work_dir / "downloads"
        self._tasks: set[asyncio.Task[None]] = set()

    async def members(self, project_id: str, container_id: str, content: str | None,
                      element_ids: list[str] | None) -> list[Member]:
        """What an export holds: the files, their parsed outputs, or both."""
        content = content or "files"
        if content not in CONTENT_CHOICES:
            raise InvalidInputError(f"content must be one of {', '.join(CONTENT_CHOICES)}",
                                    loc=("body", "content"))
        await self._containers.get(project_id, container_id)
        elements = await self._elements_of(container_id, element_ids)
        chosen: list[tuple[str, Element]] = []
        if content != "parsed_content":
            chosen += [(e.name, e) for e in elements]
        if content != "files":
            outputs = await self._elements.outputs_of([e.id for e in elements]) if elements else []
            chosen += [(f"parsed/{o.name}", o) for o in outputs]
        return _unique_members(chosen, self._blobs)

    async def _elements_of(self, container_id: str, element_ids: list[str] | None) -> list[Element]:
        if element_ids is not None:
            found = await self._elements.get_many(element_ids)
            missing = [i for i in element_ids if i not in found or found[i].container_id != container_id]
            if missing:
                raise NotFoundError(f"data element {missing[0]} not found in this datasource")
            return [found[i] for i in element_ids]
        result: list[Element] = []
        cursor: str | None = None
        while True:
            page = await self._elements.page(container_id, cursor=cursor, limit=PAGE)
            result += page.elements
            if page.next_cursor is None:
                return result
            cursor = page.next_cursor

    async def create_job(self, project_id: str, container_id: str, content: str | None,
                         element_ids: list[str] | None) -> Download:
        members = await self.members(project_id, container_id, content, element_ids)
        job = await self._transfers.add_download(Download(
            id=new_id(Kind.DOWNLOAD), project_id=project_id, container_id=container_id, status="running",
            request={"content": content, "data_element_ids": element_ids}, total=len(members), done=0,
            error=None, created_at=utcnow(), finished_at=None))
        task = asyncio.create_task(self._build(job.id, members))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def get_job(self, project_id: str, container_id: str, job_id: str) -> Download:
        job = await self._transfers.get_download(job_id)
        if job is None or job.project_id != project_id or job.container_id != container_id:
            raise NotFoundError(f"download job {job_id} not found")
        return job

    def archive_path(self, job_id: str) -> Path:
        return self._dir / f"{job_id}.zip"

    async def _build(self, job_id: str, members: list[Member]) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        done_counter = [0]

        def on_member_done() -> None:
            done_counter[0] += 1

        async def report() -> None:
            while True:
                await asyncio.sleep(0.25)
                await self._transfers.save_download(job_id, done=done_counter[0])

        reporter = asyncio.create_task(report())
        try:
            await loop.run_in_executor(None, _write_zip, self.archive_path(job_id), members, on_member_done)
            await self._transfers.save_download(job_id, status="completed", done=len(members),
                                                finished_at=utcnow())
        except Exception as e:
            log.exception("download %s failed", job_id)
            await self._transfers.save_download(job_id, status="failed", error=str(e), finished_at=utcnow())
        finally:
            reporter.cancel()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _unique_members(chosen: list[tuple[str, Element]], blobs: BlobStore) -> list[Member]:
    seen: dict[str, int] = {}
    members = []
    for name, element in chosen:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique = name if count == 0 else _numbered(name, count)
        members.append(Member(unique, blobs.local_path(element.sha256), element.updated_at))
    return members


def _numbered(name: str, n: int) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"


def zip_chunks(members: Iterable[Member], on_member_done: object = None) -> Iterator[bytes]:
    """The archive's bytes, member by member, reading each file in 64 KiB chunks."""
    def files() -> Iterator[tuple[str, datetime, int, Any, Iterator[bytes]]]:
        for member in members:
            yield member.name, member.modified, S_IFREG | 0o644, ZIP_64, _read(member.path, on_member_done)

    yield from stream_zip(files())


def _read(path: Path, on_done: object) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            yield chunk
    if callable(on_done):
        on_done()


def _write_zip(target: Path, members: list[Member], on_member_done: object) -> None:
    partial = target.with_suffix(".part")
    with partial.open("wb") as out:
        for chunk in zip_chunks(members, on_member_done):
            out.write(chunk)
    partial.replace(target)
