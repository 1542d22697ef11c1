"""Multipart uploads: a session declares a file's name and size, takes its parts in any order (a re-sent
part replaces the earlier one), and on commit streams them, in order, into one element.

Every part but the last is exactly ``part_size`` bytes and the last completes the declared size, so a
part's size is known from its number and a wrong one is refused as it arrives. A refused commit, an
abort and an expired session all leave nothing behind: no element, no blob, no part file.

A commit or an abort first closes the open session (one of them wins; the other, and any part that
arrives later or was still streaming, gets a 409), and a commit reads the files of the part ids recorded
when it closed the session, so nothing sent meanwhile changes the bytes it assembles.
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
from conveyor.store.upload_sessions import ABORTING, COMMITTING, OPEN, UploadSessionsRepo

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
            raise _not_open(session)
        if not 1 <= part_num <= part_count(session):
            raise InvalidInputError(f"part_num must be between 1 and {part_count(session)} for this session",
                                    loc=("path", "part_num"))
        part_id = new_id(Kind.UPLOAD_PART)
        staged = await self._staging.write_part(session.id, part_num, part_id, chunks,
                                                expected_size(session, part_num))
        part = UploadPart(session_id=session.id, part_num=part_num, part_id=part_id, size=staged.size,
                          sha256=staged.sha256, created_at=utcnow())
        await self._record(part)
        return part

    async def _record(self, part: UploadPart) -> None:
        """Record a staged part, then delete the file it replaces (or its own, if the session closed)."""
        try:
            replaced = await self._sessions.put_part(part)
        except ConflictError:
            await self._staging.remove_part(part.session_id, part.part_num, part.part_id)
            raise
        if replaced is not None:
            await self._staging.remove_part(replaced.session_id, replaced.part_num, replaced.part_id)

    async def commit(self, project_id: str, session_id: str, parts: Sequence[PartRef]) -> Element:
        """Assemble the listed parts into one element; any mismatch discards the session (4xx)."""
        session = await self._close(project_id, session_id, COMMITTING)
        try:
            stored = await self._check_parts(session, parts)
            container = await self._containers.get(project_id, session.container_id)
            chunks = self._staging.read_parts(session.id, [(p.part_num, p.part_id) for p in stored])
            incoming = IncomingFile(name=session.filename, media_type=None, chunks=chunks)
            return await self._containers.add_file(project_id, container, incoming, replace=True)
        finally:
            await self._discard(session.id)

    async def abort(self, project_id: str, session_id: str) -> None:
        """Discard an open session; one being committed (or aborted) is a conflict."""
        session = await self._close(project_id, session_id, ABORTING)
        await self._discard(session.id)

    async def _close(self, project_id: str, session_id: str, status: str) -> UploadSession:
        session = await self.get(project_id, session_id)
        now = utcnow()
        if not await self._sessions.close(session.id, status, now, now + self._ttl):
            raise _not_open(await self.get(project_id, session_id))
        return session

    async def _check_parts(self, session: UploadSession, listed: Sequence[PartRef]) -> list[UploadPart]:
        """The stored parts the client listed, in order, if they are the whole file."""
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
        return [stored[ref.part_num] for ref in listed]

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
        now = utcnow()
        expired = [s for s in await self._sessions.expired(now) if await self._sessions.remove_expired(s, now)]
        for session_id in expired:
            await self._staging.discard(session_id)
        on_disk = self._staging.session_ids()
        live = await self._sessions.existing(on_disk) if on_disk else set()
        orphans = [s for s in on_disk if s not in live]
        for session_id in orphans:
            await self._staging.discard(session_id)
        if expired or orphans:
            log.info("swept %d expired upload sessions and %d orphaned part folders", len(expired), len(orphans))
        return len(expired) + len(orphans)


def _not_open(session: UploadSession) -> ConflictError:
    doing = {COMMITTING: "being committed", ABORTING: "being aborted"}.get(session.status, session.status)
    return ConflictError(f"multipart upload session {session.id} is {doing}")


def _check_start(filename: str, file_size: int) -> None:
    if not filename.strip() or "/" in filename or "\\" in filename:
        raise InvalidInputError("filename must be a file name (no path separators)", loc=("body", "filename"))
    if len(filename) > MAX_FILENAME:
        raise InvalidInputError(f"filename is longer than {MAX_FILENAME} characters", loc=("body", "filename"))
    if file_size < 1:
        raise InvalidInputError("file_size must be at least 1 byte", loc=("body", "file_size"))
