from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from conveyor.services.core import Core
from tests.support.corpus import corpus_dir
from tests.support.inprocess import running_app, test_settings
from tests.support.llm import FaultyProxy, LocalLLM
from tests.support.postgres import PostgresServer
from tests.support.server import LiveServer


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    assert path.is_dir(), f"the shared corpus is missing at {path} (set CONVEYOR_CORPUS)"
    return path


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Core]]:
    """The app in-process with a fresh data directory; the client carries project A's key."""
    async with running_app(test_settings(tmp_path / "home")) as pair:
        yield pair


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real `conveyor serve` on a free port, shared by one test module."""
    server = LiveServer(home=tmp_path_factory.mktemp("live") / "home", api_key="live-test-key").start()
    yield server
    server.stop()
    assert "500 Internal Server Error" not in server.log_text, "the live server answered with 500"
    assert "unhandled error" not in server.log_text, "the live server hit an unhandled error"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session."""
    server = PostgresServer.in_temp_dir().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend in turn: SQLite in a temp dir, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLM]:
    """`conveyor llm serve` on the bundled model, for the whole session."""
    server = LocalLLM(models_dir=tmp_path_factory.mktemp("llm") / "models").start()
    yield server
    server.stop()


@pytest.fixture
def faulty_llm(local_llm: LocalLLM) -> Iterator[FaultyProxy]:
    """A proxy in front of the local LLM that can be told to answer with errors."""
    proxy = FaultyProxy(local_llm.base_url).start()
    yield proxy
    proxy.stop()
