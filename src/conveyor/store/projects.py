"""Projects (tenants) and their API keys."""

from __future__ import annotations

from sqlalchemy import select, update

from conveyor.domain.ids import Kind, new_id
from conveyor.store.database import Database
from conveyor.store.models import ApiKey, Project
from conveyor.store.types import utcnow


class ProjectsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def first(self) -> Project | None:
        async with self._db.read() as s:
            return (await s.scalars(select(Project).order_by(Project.id).limit(1))).first()

    async def get(self, project_id: str) -> Project | None:
        async with self._db.read() as s:
            return await s.get(Project, project_id)

    async def create(self, name: str, customer: str = "local") -> Project:
        project = Project(id=new_id(Kind.PROJECT), customer=customer, name=name, created_at=utcnow())
        async with self._db.write() as s:
            s.add(project)
        return project

    async def add_key(self, project_id: str, name: str, key_hash: str, prefix: str) -> ApiKey:
        key = ApiKey(id=new_id(Kind.API_KEY), project_id=project_id, name=name, prefix=prefix,
                     key_hash=key_hash, created_at=utcnow(), revoked_at=None)
        async with self._db.write() as s:
            s.add(key)
        return key

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self._db.read() as s:
            stmt = select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
            return (await s.scalars(stmt)).first()

    async def list_keys(self) -> list[ApiKey]:
        async with self._db.read() as s:
            return list(await s.scalars(select(ApiKey).order_by(ApiKey.id)))

    async def revoke_key(self, key_id: str) -> bool:
        async with self._db.write() as s:
            result = await s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                                     .values(revoked_at=utcnow()))
            return bool(result.rowcount)  # type: ignore[attr-defined]
