"""Engine, sessions and migrations for SQLite (WAL) and PostgreSQL, same code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from conveyor.store.turns import WriteTurns

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Database:
    """An async engine with two session kinds: ``read()`` and ``write()``.

    On SQLite a write session starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the
    busy timeout instead of failing when a read lock cannot be upgraded; reads stay concurrent (WAL).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, **_engine_options(url))
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False)
        # SQLite has one writer: queue this process's writers here instead of in SQLite's busy handler,
        # which sleeps in coarse steps
        self._turns = WriteTurns() if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error; ``urgent`` writers
        (claiming work for idle slots) go before others waiting for SQLite's single writer."""
        async with self._write_turn(urgent), self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _write_turn(self, urgent: bool) -> AsyncIterator[None]:
        if self._turns is None:
            yield
            return
        async with self._turns.turn(urgent=urgent):
            yield

    async def migrate(self) -> None:
        """Apply Alembic migrations up to head."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}, "pool_size": 8, "max_overflow": 8}
    return {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        # temp_store stays on disk: freezing a run sorts its element ids in a temp b-tree, which in memory
        # would cost ~90 MB per million items (and the allocator keeps it)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=60000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # writers take the write lock up front; readers run each statement on its own (WAL snapshot per
        # statement), which saves a round trip to the driver's thread per read session
        if conn.get_execution_options().get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
