"""The ``parse`` processor: runs :func:`~conveyor.processors.parse.parse_file` in a worker process.

The executor comes from a factory (the server's spawn-context process pool), so a file that crashes a
parsing library takes down a worker, not the server. A crashed worker makes the item retryable and the
pool is replaced, so later items do not inherit the breakage; an unparseable file fails for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, ClassVar

from conveyor.errors import RetryableError
from conveyor.processors.base import Artifact, ItemInput
from conveyor.processors.parse import parse_file
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.formats import HEAD_SIZE, detect_media_type, is_supported
from conveyor.processors.parse.options import parse_options


class ParseProcessor:
    """Parses an element into markdown, plain text and per-page text and layout (``pages`` JSON); option
    ``formats`` picks which of them (see :mod:`~conveyor.processors.parse.options`)."""

    kind: ClassVar[str] = "parse"

    def __init__(self, executor_factory: Callable[[], Executor]) -> None:
        self._factory = executor_factory
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = self._factory()
        return self._executor

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        wanted = parse_options(options).formats
        return _artifacts(await self.document(item, options), wanted)

    async def document(self, item: ItemInput, options: Mapping[str, Any]) -> ParsedDocument:
        """The parsed element (the LLM processors read documents through this too)."""
        parse_options(options)  # bad options fail here, before a worker is used
        loop = asyncio.get_running_loop()
        executor = self.executor
        try:
            document = await loop.run_in_executor(
                executor, parse_element, item.path, item.name, item.media_type, dict(options))
        except BrokenProcessPool as e:
            self._replace(executor)
            raise RetryableError("parser worker crashed", element_id=item.element_id) from e
        except asyncio.CancelledError:
            # the item's time limit ran out (or its run was cancelled) while a worker may still be stuck on
            # this file: stop that pool's workers so a hostile file cannot hold one forever
            self._replace(executor, kill=True)
            raise
        return document

    def _replace(self, broken: Executor, *, kill: bool = False) -> None:
        if self._executor is not broken:
            return
        self._executor = None
        if kill:
            _kill_workers(broken)
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _artifacts(document: ParsedDocument, wanted: tuple[str, ...]) -> list[Artifact]:
    """The artifacts named in the ``formats`` option, in the order markdown, text, pages."""
    makers: dict[str, Callable[[], Artifact]] = {
        "markdown": lambda: Artifact.markdown(document.markdown),
        "text": lambda: Artifact.text(document.text),
        "pages": lambda: Artifact.json(document.pages, name="pages"),
    }
    return [makers[name]() for name in wanted]


def _kill_workers(executor: Executor) -> None:
    """ProcessPoolExecutor cannot cancel a running call; killing its workers is the only way to stop one.
    (Reads the pool's private process table: there is no public handle on its workers.)"""
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.kill()


def parse_element(path: Path, name: str, media_type: str, options: dict[str, Any]) -> ParsedDocument:
    """Parse a file as its declared media type, or as the one its name and bytes suggest when the
    declared one is missing or unsupported (``application/octet-stream`` from an upload, say).

    Runs in the worker process: a module-level function of picklable arguments.
    """
    if not is_supported(media_type):
        with path.open("rb") as file:
            detected = detect_media_type(name, file.read(HEAD_SIZE))
        media_type = detected if is_supported(detected) else media_type
    return parse_file(path, media_type, options)
