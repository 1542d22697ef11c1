"""Containers (datasources) and the elements (stored files) in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from conveyor.domain.rules import ElementFilter
from conveyor.store.database import Database
from conveyor.store.models import Blob, Container, Element, FaceId
from conveyor.store.types import utcnow


@dataclass(frozen=True)
class ElementPage:
    elements: list[Element]
    next_cursor: str | None


@dataclass(frozen=True)
class ElementQuery:
    """More conditions on an element listing: exact or partial name, update time, metadata values."""

    name: str | None = None
    name_contains: str | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def apply(self, stmt: Any) -> Any:
        if self.name is not None:
            stmt = stmt.where(Element.name == self.name)
        if self.name_contains is not None:
            stmt = stmt.where(Element.name.contains(self.name_contains, autoescape=True))
        if self.updated_from is not None:
            stmt = stmt.where(Element.updated_at >= self.updated_from)
        if self.updated_to is not None:
            stmt = stmt.where(Element.updated_at <= self.updated_to)
        for key, value in self.metadata:
            stmt = stmt.where(Element.meta[key].as_string() == value)
        return stmt


class ContainersRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, container: Container) -> Container:
        async with self._db.write() as s:
            s.add(container)
        return container

    async def get(self, project_id: str, container_id: str) -> Container | None:
        async with self._db.read() as s:
            found = await s.get(Container, container_id)
            return found if found is not None and found.project_id == project_id else None

    async def list(self, project_id: str) -> list[Container]:
        async with self._db.read() as s:
            stmt = select(Container).where(Container.project_id == project_id).order_by(Container.id)
            return list(await s.scalars(stmt))

    async def update(self, container_id: str, **values: Any) -> None:
        async with self._db.write() as s:
            found = await s.get(Container, container_id)
            if found is not None:
                for key, value in values.items():
                    setattr(found, key, value)
                found.updated_at = utcnow()

    async def delete(self, container_id: str) -> None:
        """The container, its elements, and every face's ids for them."""
        elements = select(Element.id).where(Element.container_id == container_id)
        async with self._db.write() as s:
            await s.execute(delete(FaceId).where(or_(FaceId.core_id == container_id, FaceId.core_id.in_(elements))))
            await s.execute(delete(Element).where(Element.container_id == container_id))
            await s.execute(delete(Container).where(Container.id == container_id))

    async def count_elements(self, container_id: str) -> int:
        async with self._db.read() as s:
            stmt = select(func.count()).select_from(Element).where(Element.container_id == container_id)
            return int((await s.execute(stmt)).scalar_one())


class ElementsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, element: Element, blob_size: int) -> Element:
        """Insert an element, registering its blob if this is the first element to use it."""
        async with self._db.write() as s:
            await s.execute(self._insert_blob(element.sha256, blob_size))
            s.add(element)
        return element

    def _insert_blob(self, sha256: str, size: int) -> Any:
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        return insert(Blob).values(sha256=sha256, size=size, created_at=utcnow()).on_conflict_do_nothing()

    async def get(self, container_id: str, element_id: str) -> Element | None:
        async with self._db.read() as s:
            found = await s.get(Element, element_id)
            return found if found is not None and found.container_id == container_id else None

    async def add_replacing(self, element: Element, blob_size: int) -> Element:
        """Insert an element and drop the container's other elements of the same name, in one transaction."""
        async with self._db.write() as s:
            await s.execute(self._insert_blob(element.sha256, blob_size))
            await s.execute(delete(Element).where(Element.container_id == element.container_id,
                                                  Element.name == element.name))
            s.add(element)
        return element

    async def delete_named(self, container_id: str, name: str) -> int:
        async with self._db.write() as s:
            result = await s.execute(delete(Element).where(Element.container_id == container_id,
                                                           Element.name == name))
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def get_many(self, element_ids: Sequence[str]) -> dict[str, Element]:
        async with self._db.read() as s:
            rows = await s.scalars(select(Element).where(Element.id.in_(element_ids)))
            return {row.id: row for row in rows}

    async def page(self, container_id: str, *, cursor: str | None, limit: int,
                   element_filter: ElementFilter | None = None, name_prefix: str | None = None,
                   query: ElementQuery | None = None) -> ElementPage:
        """Elements in id order after ``cursor`` (an element id), filtered in the database."""
        stmt = select(Element).where(Element.container_id == container_id)
        if query is not None:
            stmt = query.apply(stmt)
        if cursor:
            stmt = stmt.where(Element.id > cursor)
        if name_prefix:
            stmt = stmt.where(Element.name.startswith(name_prefix, autoescape=True))
        if element_filter is not None:
            stmt = apply_filter(stmt, element_filter)
        async with self._db.read() as s:
            rows = list(await s.scalars(stmt.order_by(Element.id).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return ElementPage(rows, rows[-1].id if more and rows else None)

    async def update(self, element_id: str, **values: Any) -> Element | None:
        async with self._db.write() as s:
            found = await s.get(Element, element_id)
            if found is None:
                return None
            for key, value in values.items():
                setattr(found, key, value)
            found.updated_at = utcnow()
            return found

    async def delete(self, element_id: str) -> None:
        """The element and every face's ids for it."""
        async with self._db.write() as s:
            await s.execute(delete(FaceId).where(FaceId.core_id == element_id))
            await s.execute(delete(Element).where(Element.id == element_id))

    async def outputs_of(self, source_element_ids: Sequence[str]) -> list[Element]:
        async with self._db.read() as s:
            stmt = select(Element).where(Element.source_element_id.in_(source_element_ids)).order_by(Element.id)
            return list(await s.scalars(stmt))


def apply_filter(stmt: Any, element_filter: ElementFilter) -> Any:
    """Add an ElementFilter's conditions to a select over ``Element``."""
    if element_filter.element_ids is not None:
        stmt = stmt.where(Element.id.in_(element_filter.element_ids))
    if element_filter.media_types is not None:
        exact = [m for m in element_filter.media_types if not m.endswith("/*")]
        prefixes = [m[:-1] for m in element_filter.media_types if m.endswith("/*")]
        conditions: list[ColumnElement[bool]] = [Element.media_type.in_(exact)] if exact else []
        conditions += [Element.media_type.startswith(p, autoescape=True) for p in prefixes]
        stmt = stmt.where(or_(*conditions)) if conditions else stmt.where(False)
    if element_filter.regex is not None:
        stmt = stmt.where(Element.name.regexp_match(element_filter.regex))
    return stmt
