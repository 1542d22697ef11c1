"""Multipart uploads: a session declares a file's name and size, takes its parts in any order (a re-sent
part replaces the earlier one), and on commit streams them, in order, into one element.

Every part but the last is exactly ``part_size`` bytes and the last completes the declared size, so a
part's size is known from its number and a wrong one is refused as it arrives. A refused commit, an
abort and an expired session all leave nothing behind: no element, no blob, no part file.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from conveyor.blobs.staging import PartStaging
from conveyor.domain.ids import Kind, new_id
from conveyor.errors import ConflictError, InvalidInputError, NotFoundError, PayloadTooLargeError
from conveyor.services.background import Periodic
from conveyor.services.containers import ContainersService, IncomingFile
from conveyor.store.models import Container, Element, UploadPart, UploadSession
from conveyor.store.types import utcnow
from conveyor.store.upload_sessions import OPEN, UploadSessionsRepo

log = logging.getLogger("conveyor.uploads")
MAX_FILENAME = 255


@dataclass(frozen=True)
class PartRef:
    """A part as the committing client lists it."""

    part_num: int
    part_id: str


def part_count(session: UploadSession) -> int:
    return max(1, -(-session.file_size // session.part_size))


def expected_size(session: UploadSession, part_num: int) -> int:
    """Every part is ``part_size`` bytes but the last, which completes the file."""
    if part_num < part_count(session):
        return session.part_size
    return session.file_size - (part_count(session) - 1) * session.part_size


class UploadSessionsService:
    def __init__(self, sessions: UploadSessionsRepo, staging: PartStaging, containers: ContainersService, *,
                 part_size: int, ttl_seconds: float, max_file_bytes: int) -> None:
        self._sessions = sessions
        self._staging = staging
        self._containers = containers
        self._part_size = part_size
        self._ttl = timedelta(seconds=ttl_seconds)
        self._max_file_bytes = max_file_bytes
        self._sweeper = Periodic("upload-sweep", min(max(ttl_seconds / 4, 0.5), 60.0), self.sweep)

    # sessions -----------------------------------------------------------------------------------
    async def start(self, project_id: str, container: Container, filename: str, file_size: int) -> UploadSession:
        _check_start(filename, file_size)
        if file_size > self._max_file_bytes:
            raise PayloadTooLargeError(f"file is larger than the {self._max_file_bytes}-byte upload limit")
        now = utcnow()
        return await self._sessions.add(UploadSession(
            id=new_id(Kind.UPLOAD_SESSION), project_id=project_id, container_id=container.id, filename=filename,
            file_size=file_size, part_size=self._part_size, status=OPEN, created_at=now,
            expires_at=now + self._ttl))

    async def get(self, project_id: str, session_id: str) -> UploadSession:
        session = await self._sessions.get(project_id, session_id)
        if session is None or session.expires_at <= utcnow():
            raise NotFoundError(f"multipart upload session {session_id} not found (or expired)")
        return session

    async def put_part(self, project_id: str, session_id: str, part_num: int,
                       chunks: AsyncIterator[bytes]) -> UploadPart:
        session = await self.get(project_id, session_id)
        if session.status != OPEN:
            raise ConflictError(f"multipart upload session {session_id} is being committed")
        if not 1 <= part_num <= part_count(session):
            raise InvalidInputError(f"part_num must be between 1 and {part_count(session)} for this session",
                                    loc=("path", "part_num"))
        staged = await self._staging.write_part(session.id, part_num, chunks, expected_size(session, part_num))
        part = UploadPart(session_id=session.id, part_num=part_num, part_id=new_id(Kind.UPLOAD_PART),
                          size=staged.size, sha256=staged.sha256, created_at=utcnow())
        if not await self._sessions.put_part(part):
            raise ConflictError(f"multipart upload session {session_id} was committed or aborted meanwhile")
        return part

    async def commit(self, project_id: str, session_id: str, parts: Sequence[PartRef]) -> Element:
        """Assemble the listed parts into one element; any mismatch discards the session (4xx)."""
        session = await self.get(project_id, session_id)
        if not await self._sessions.begin_commit(session.id, utcnow() + self._ttl):
            raise ConflictError(f"multipart upload session {session_id} is already being committed")
        try:
            await self._check_parts(session, parts)
            container = await self._containers.get(project_id, session.container_id)
            incoming = IncomingFile(name=session.filename, media_type=None,
                                    chunks=self._staging.read_parts(session.id, range(1, part_count(session) + 1)))
            return await self._containers.add_file(project_id, container, incoming, replace=True)
        finally:
            await self._discard(session.id)

    async def abort(self, project_id: str, session_id: str) -> None:
        session = await self.get(project_id, session_id)
        await self._discard(session.id)

    async def _check_parts(self, session: UploadSession, listed: Sequence[PartRef]) -> None:
        stored = {p.part_num: p for p in await self._sessions.parts(session.id)}
        count = part_count(session)
        if [p.part_num for p in listed] != list(range(1, count + 1)):
            raise InvalidInputError(f"parts must list part_num 1 to {count} in order, each once",
                                    loc=("body", "parts"))
        for index, ref in enumerate(listed):
            have = stored.get(ref.part_num)
            if have is None:
                raise InvalidInputError(f"part {ref.part_num} was never uploaded to this session",
                                        loc=("body", "parts", index, "part_num"))
            if have.part_id != ref.part_id:
                raise InvalidInputError(f"part_id {ref.part_id} is not part {ref.part_num} of this session",
                                        loc=("body", "parts", index, "part_id"))
            if have.size != expected_size(session, ref.part_num):
                raise InvalidInputError(f"part {ref.part_num} has {have.size} bytes, not "
                                        f"{expected_size(session, ref.part_num)}", loc=("body", "parts", index))

    async def _discard(self, session_id: str) -> None:
        await self._staging.discard(session_id)
        await self._sessions.remove(session_id)

    # the sweep ----------------------------------------------------------------------------------
    def start_sweeper(self) -> None:
        self._sweeper.start()

    async def stop_sweeper(self) -> None:
        await self._sweeper.stop()

    async def sweep(self) -> int:
        """Discard expired sessions, and part folders whose session is gone; returns how many went."""
        expired = await self._sessions.expired(utcnow())
        for session_id in expired:
            await self._discard(session_id)
        on_disk = self._staging.session_ids()
        live = await self._sessions.existing(on_disk) if on_disk else set()
        orphans = [s for s in on_disk if s not in live]
        for session_id in orphans:
            await self._staging.discard(session_id)
        if expired or orphans:
            log.info("swept %d expired upload sessions and %d orphaned part folders", len(expired), len(orphans))
        return len(expired) + len(orphans)


def _check_start(filename: str, file_size: int) -> None:
    if not filename.strip() or "/" in filename or "\\" in filename:
        raise InvalidInputError("filename must be a file name (no path separators)", loc=("body", "filename"))
    if len(filename) > MAX_FILENAME:
        raise InvalidInputError(f"filename is longer than {MAX_FILENAME} characters", loc=("body", "filename"))
    if file_size < 1:
        raise InvalidInputError("file_size must be at least 1 byte", loc=("body", "file_size"))
