"""Ids of the non-Meibel faces: one table maps (project, face, kind, external id) to a core id and back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from conveyor.errors import ConflictError
from conveyor.store.database import Database
from conveyor.store.models import Container, FaceId
from conveyor.store.types import utcnow


@dataclass(frozen=True)
class FaceKey:
    """Which ids: one face's ids for one kind of core object in one project."""

    project_id: str
    face: str
    kind: str


class FaceIdsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def allocate_number(self, key: FaceKey, core_id: str) -> int:
        """A new integer id for ``core_id``: the mapping row's own, ever-growing primary key."""
        async with self._db.write() as s:
            row = self._row(key, None, core_id)
            s.add(row)
            await s.flush()
            await s.execute(update(FaceId).where(FaceId.id == row.id).values(external_id=str(row.id)))
            return row.id

    async def assign(self, key: FaceKey, external_id: str, core_id: str) -> None:
        """Record a face's own string id for ``core_id``; either side already mapped is a conflict."""
        try:
            async with self._db.write() as s:
                s.add(self._row(key, external_id, core_id))
        except IntegrityError as e:
            raise ConflictError(f"{key.face} {key.kind} id {external_id} or {core_id} is already mapped") from e

    async def assign_many(self, key: FaceKey, pairs: dict[str, str]) -> None:
        """Record many ``core id → external id`` pairs in one transaction; any one already mapped is a
        conflict and none is recorded."""
        if not pairs:
            return
        try:
            async with self._db.write() as s:
                s.add_all([self._row(key, external_id, core_id) for core_id, external_id in pairs.items()])
        except IntegrityError as e:
            raise ConflictError(f"{key.face} {key.kind}: some of {len(pairs)} ids are already mapped") from e

    @staticmethod
    def _row(key: FaceKey, external_id: str | None, core_id: str) -> FaceId:
        return FaceId(project_id=key.project_id, face=key.face, kind=key.kind, external_id=external_id,
                      core_id=core_id, created_at=utcnow())

    async def core_id(self, key: FaceKey, external_id: str) -> str | None:
        stmt = select(FaceId.core_id).where(*_of(key), FaceId.external_id == external_id)
        async with self._db.read() as s:
            return (await s.execute(stmt)).scalar()

    async def external_id(self, key: FaceKey, core_id: str) -> str | None:
        stmt = select(FaceId.external_id).where(*_of(key), FaceId.core_id == core_id)
        async with self._db.read() as s:
            return (await s.execute(stmt)).scalar()

    async def external_ids(self, key: FaceKey, core_ids: list[str]) -> dict[str, str]:
        stmt = select(FaceId.core_id, FaceId.external_id).where(*_of(key), FaceId.core_id.in_(core_ids))
        async with self._db.read() as s:
            return {core: ext for core, ext in (await s.execute(stmt)).all() if ext is not None}

    async def containers(self, key: FaceKey, offset: int, limit: int, *,
                         extra_equals: tuple[tuple[str, ...], str] | None = None) -> list[tuple[str, Container]]:
        """Mapped containers that still exist, with their external ids, in creation order; with
        ``extra_equals=(path, value)`` only those whose ``extra`` holds the string ``value`` at ``path``."""
        stmt = (select(FaceId.external_id, Container)
                .join(Container, (Container.id == FaceId.core_id) & (Container.project_id == key.project_id))
                .where(*_of(key), FaceId.external_id.is_not(None)))
        if extra_equals is not None:
            path, value = extra_equals
            stmt = stmt.where(Container.extra[path].as_string() == value)
        async with self._db.read() as s:
            rows = await s.execute(stmt.order_by(FaceId.id).offset(offset).limit(limit))
            return [(str(external), container) for external, container in rows.all()]

    async def count(self, key: FaceKey) -> int:
        async with self._db.read() as s:
            return int((await s.execute(select(func.count()).select_from(FaceId).where(*_of(key)))).scalar_one())

    async def forget(self, core_id: str) -> None:
        """Drop every face's id for a core object that no longer exists."""
        async with self._db.write() as s:
            await s.execute(delete(FaceId).where(FaceId.core_id == core_id))


def _of(key: FaceKey) -> tuple[ColumnElement[bool], ...]:
    return (FaceId.project_id == key.project_id, FaceId.face == key.face, FaceId.kind == key.kind)
