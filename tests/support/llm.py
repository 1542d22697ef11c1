"""A real local LLM (``conveyor llm serve`` on the bundled Gemma 3 270M) and a fault-injecting proxy
in front of it, for tests of the LLM processors; and an endpoint that never answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.support.corpus import REPO
from tests.support.server import free_port, stop_process, wait_until_up


@dataclass
class LocalLLM:
    models_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180) -> LocalLLM:
        with (self.models_dir.parent / f"llm-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "conveyor.cli.main", "llm", "serve", "--port", str(self.port),
                 "--models-dir", str(self.models_dir)], stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        wait_until_up(self.process, f"{self.base_url}/models", timeout, log.name)
        return self

    def stop(self) -> None:
        stop_process(self.process)


class FaultyProxy:
    """Forwards requests to ``upstream`` but answers the next ``fail(n)`` of them with an error itself."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.forwarded = 0
        self.refused = 0
        self._failures: list[tuple[int, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail(self, times: int, status: int = 429, retry_after: str | None = "1") -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._failures.extend([(status, headers)] * times)

    def start(self) -> FaultyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_failure(self) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                failure = proxy._next_failure()
                if failure is not None:
                    proxy.refused += 1
                    self._answer(failure[0], b'{"error": {"message": "rate limited"}}', failure[1])
                    return
                proxy.forwarded += 1
                path = self.path.removeprefix("/v1")
                upstream = httpx.post(f"{proxy.upstream}{path}", content=body, timeout=120,
                                      headers={"Content-Type": "application/json"})
                self._answer(upstream.status_code, upstream.content, {})

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def silent_llm() -> Iterator[str]:
    """The base URL of an LLM endpoint that takes connections and never answers: items that call it stay
    in flight (until the LLM time limit), which holds a run open for as long as a test needs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
