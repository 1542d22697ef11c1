"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, pg_ctl start, pg_ctl stop."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.support.server import free_port


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the ``postgres`` system user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresServer:
    root: Path
    port: int = 0

    @classmethod
    def in_temp_dir(cls) -> PostgresServer:
        """Under a fresh top-level temp dir: the server user must be able to reach it."""
        return cls(Path(tempfile.mkdtemp(prefix="conveyor-pg-")))

    def start(self) -> PostgresServer:
        self.port = free_port()
        data, sockets = self.root / "data", self.root / "sockets"
        for path in (self.root, sockets):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(sockets, "postgres")
        subprocess.run(_as_server_user([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "conveyor",
                                        "--no-sync"]), check=True, capture_output=True)
        options = f"-p {self.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_server_user([_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                        str(self.root / "server.log"), "start"]), check=True, capture_output=True)
        return self

    def stop(self) -> None:
        subprocess.run(_as_server_user([_bin("pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    async def new_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="conveyor", database="postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return f"postgresql+asyncpg://conveyor@127.0.0.1:{self.port}/{name}"
