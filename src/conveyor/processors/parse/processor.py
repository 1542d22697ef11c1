"""The ``parse`` processor: runs :func:`~conveyor.processors.parse.parse_file` in a limited worker process.

Files are untrusted, so each is parsed in a :class:`~conveyor.processors.workers.WorkerPool` worker under
a memory limit and a time limit, and a file that breaks a parser takes down that worker, never the server
or the files parsing next to it. How each way of failing ends:

- the file is unsupported, corrupt or unreadable: FAILED with the parser's reason;
- the parser needs more memory than the limit: FAILED, "parser ran out of memory (limit N MB)";
- parsing runs past the time limit: the worker is killed, FAILED, "parsing took longer than N s";
- the worker crashes (a native library's segfault, say): retryable the first time, since the crash may
  not be the file's fault; a second crash on the same file fails it for good.

The time limit is ``timeout_seconds`` of the agent when it sets one, else the server's
``parse_timeout_seconds``; either way it stops short of the item's own time limit
(:data:`ITEM_TIME_SHARE` of it), so the parse limit fires first and the item fails with the reason above
rather than a bare, retryable time-out. It counts from the moment a worker starts on the file: waiting for
a free worker does not count against it (but does against the item's). ``memory_limit_mb`` of the agent
may lower the server's ``parse_memory_limit_mb`` for its files, never raise it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Final

from conveyor.errors import PermanentError, RetryableError
from conveyor.processors.base import Artifact, ItemInput
from conveyor.processors.parse import parse_file
from conveyor.processors.parse.document import ParsedDocument
from conveyor.processors.parse.formats import HEAD_SIZE, OCTET_STREAM, detect_media_type, is_supported
from conveyor.processors.parse.options import parse_options
from conveyor.processors.workers import WorkerDied, WorkerOutOfMemory, WorkerPool, WorkerTimeout

ITEM_TIME_SHARE: Final = 0.8
"""The parse limit is at most this share of the item's time limit; the rest is for starting a worker
and storing the outputs."""
CRASHES_REMEMBERED: Final = 10_000
WORKER_MODULES: Final = ("conveyor.processors.parse.processor",)
"""Imported by each worker when it starts, so no file's time limit pays for it."""


class ParseProcessor:
    """Parses an element into markdown, plain text and per-page text (``pages`` JSON)."""

    kind: ClassVar[str] = "parse"

    def __init__(self, workers: WorkerPool, *, time_limit: float = 120.0, item_timeout: float = 600.0) -> None:
        self.workers = workers
        self._time_limit = time_limit
        self._item_timeout = item_timeout
        self._crashed: OrderedDict[str, int] = OrderedDict()

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        wanted = parse_options(options).formats  # bad options fail here, before a worker is used
        return _artifacts(await self._parse(item, options), wanted)

    async def document(self, item: ItemInput, options: Mapping[str, Any]) -> ParsedDocument:
        """The parsed element (the LLM processors read documents through this too)."""
        parse_options(options)
        return await self._parse(item, options)

    async def _parse(self, item: ItemInput, options: Mapping[str, Any]) -> ParsedDocument:
        seconds = self.time_limit(options)
        memory_mb = _positive_int(options.get("memory_limit_mb"))
        try:
            document: ParsedDocument = await self.workers.run(
                parse_element, item.path, item.name, item.media_type, dict(options),
                time_limit=seconds, memory_limit_mb=memory_mb)
        except WorkerTimeout as e:
            raise PermanentError(f"parsing took longer than {seconds:g} s") from e
        except WorkerOutOfMemory as e:
            limit = f" (limit {e.limit_mb} MB)" if e.limit_mb else ""
            raise PermanentError(f"parser ran out of memory{limit}") from e
        except WorkerDied as e:
            raise self._crash(item, e, self.workers.effective_memory_limit(memory_mb)) from e
        self._crashed.pop(item.element_id, None)
        return document

    def time_limit(self, options: Mapping[str, Any]) -> float:
        """Seconds a worker may spend on one file under these agent options."""
        agent_timeout = _positive(options.get("timeout_seconds"))
        item_timeout = agent_timeout or self._item_timeout
        return min(agent_timeout or self._time_limit, item_timeout * ITEM_TIME_SHARE)

    def _crash(self, item: ItemInput, error: WorkerDied, memory_mb: int) -> PermanentError | RetryableError:
        if error.starting:  # not the file's doing
            return RetryableError(f"a parser worker could not start (it {error.reason})")
        hint = f", perhaps out of memory (limit {memory_mb} MB)" if memory_mb and error.maybe_out_of_memory else ""
        crashes = self._crashed.pop(item.element_id, 0) + 1
        if crashes >= 2:
            return PermanentError(f"the parser crashed on this file twice (its worker {error.reason}{hint})")
        self._crashed[item.element_id] = crashes
        while len(self._crashed) > CRASHES_REMEMBERED:
            self._crashed.popitem(last=False)
        return RetryableError(f"parser worker crashed (it {error.reason}{hint})", element_id=item.element_id)

    def close(self) -> None:
        self.workers.close()


def _artifacts(document: ParsedDocument, wanted: tuple[str, ...]) -> list[Artifact]:
    """The artifacts named in the ``formats`` option, in the order markdown, text, pages."""
    makers: dict[str, Callable[[], Artifact]] = {
        "markdown": lambda: Artifact.markdown(document.markdown),
        "text": lambda: Artifact.text(document.text),
        "pages": lambda: Artifact.json(document.pages, name="pages"),
    }
    return [makers[name]() for name in wanted]


def _positive(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def _positive_int(value: object) -> int:
    number = _positive(value)
    return int(number) if number else 0


def parse_element(path: Path, name: str, media_type: str, options: dict[str, Any]) -> ParsedDocument:
    """Parse a file as its declared media type, or as the one its name and bytes suggest when the
    declared one is missing or unsupported (``application/octet-stream`` from an upload, say).

    Runs in the worker process: a module-level function of picklable arguments.
    """
    if not is_supported(media_type):
        with path.open("rb") as file:
            detected = detect_media_type(name, file.read(HEAD_SIZE))
        if detected != OCTET_STREAM:  # the error for an unsupported file then names what it is
            media_type = detected
    return parse_file(path, media_type, options)
