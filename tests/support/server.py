"""A real ``conveyor serve`` subprocess on a free port, for conformance and e2e tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.corpus import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    home: Path
    api_key: str
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> LiveServer:
        env = {**os.environ, "CONVEYOR_HOME": str(self.home), "CONVEYOR_API_KEY": self.api_key,
               "CONVEYOR_PORT": str(self.port), "CONVEYOR_LOG_LEVEL": "info",
               "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **self.env}
        with (self.home.parent / f"server-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "conveyor.cli.main", "serve"], env=env,
                                            stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        wait_until_up(self.process, f"{self.url}/health", timeout, log.name)
        return self

    def stop(self) -> None:
        stop_process(self.process)

    @property
    def log_text(self) -> str:
        path = self.home.parent / f"server-{self.port}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def wait_until_up(process: subprocess.Popen[bytes], url: str, timeout: float, log_name: str) -> None:
    """Poll ``url`` until it answers 200; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}; see {log_name}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up within {timeout:g} s")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL if it has not gone within 20 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
