"""Multipart upload sessions and the parts received for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from conveyor.errors import ConflictError
from conveyor.store.database import Database
from conveyor.store.models import UploadPart, UploadSession

OPEN = "open"
COMMITTING = "committing"
ABORTING = "aborting"


class UploadSessionsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, session: UploadSession) -> UploadSession:
        async with self._db.write() as s:
            s.add(session)
        return session

    async def get(self, project_id: str, session_id: str) -> UploadSession | None:
        async with self._db.read() as s:
            found = await s.get(UploadSession, session_id)
        return found if found is not None and found.project_id == project_id else None

    async def put_part(self, part: UploadPart) -> UploadPart | None:
        """Record a part if the session is still open (ConflictError otherwise); returns the part it replaced.

        The session row stays locked until the part is recorded, so a commit closing the session waits for
        it and then sees it."""
        async with self._db.write() as s:
            status = (await s.execute(select(UploadSession.status).where(
                UploadSession.id == part.session_id).with_for_update())).scalar()
            if status != OPEN:
                raise ConflictError(f"multipart upload session {part.session_id} was committed or aborted "
                                    "while this part was being sent")
            replaced = await s.get(UploadPart, (part.session_id, part.part_num))
            if replaced is not None:
                s.expunge(replaced)
            await s.execute(self._upsert(part))
            return replaced

    def _upsert(self, part: UploadPart) -> Any:
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        values = {"part_id": part.part_id, "size": part.size, "sha256": part.sha256, "created_at": part.created_at}
        stmt = insert(UploadPart).values(session_id=part.session_id, part_num=part.part_num, **values)
        return stmt.on_conflict_do_update(index_elements=["session_id", "part_num"], set_=values)

    async def parts(self, session_id: str) -> list[UploadPart]:
        async with self._db.read() as s:
            stmt = select(UploadPart).where(UploadPart.session_id == session_id).order_by(UploadPart.part_num)
            return list(await s.scalars(stmt))

    async def close(self, session_id: str, status: str, now: datetime, until: datetime) -> bool:
        """Move an open, unexpired session to ``status`` (``COMMITTING`` or ``ABORTING``), closing it to new
        parts and keeping it from the sweep ``until`` then; True for the one caller that closed it."""
        async with self._db.write() as s:
            result = await s.execute(update(UploadSession).where(
                UploadSession.id == session_id, UploadSession.status == OPEN, UploadSession.expires_at > now)
                .values(status=status, expires_at=until))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove(self, session_id: str) -> None:
        """The session and its part rows (the files are the caller's to delete)."""
        async with self._db.write() as s:
            await s.execute(delete(UploadPart).where(UploadPart.session_id == session_id))
            await s.execute(delete(UploadSession).where(UploadSession.id == session_id))

    async def remove_expired(self, session_id: str, now: datetime) -> bool:
        """Remove the session and its part rows if it is (still) past its expiry; True if it was."""
        async with self._db.write() as s:
            result = await s.execute(delete(UploadSession).where(
                UploadSession.id == session_id, UploadSession.expires_at <= now))
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            await s.execute(delete(UploadPart).where(UploadPart.session_id == session_id))
            return True

    async def expired(self, now: datetime, limit: int = 500) -> list[str]:
        """Sessions past their expiry (an open one, or a commit that died before it finished)."""
        stmt = select(UploadSession.id).where(UploadSession.expires_at <= now).limit(limit)
        async with self._db.read() as s:
            return list(await s.scalars(stmt))

    async def existing(self, session_ids: list[str]) -> set[str]:
        async with self._db.read() as s:
            stmt = select(UploadSession.id).where(UploadSession.id.in_(session_ids))
            return set(await s.scalars(stmt))
