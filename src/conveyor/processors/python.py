"""The ``python`` processor: calls a user function ``"package.module:function"`` on each element.

Where the function runs:

- by default in the server process: an ``async`` function on the event loop, a plain one in a thread
  of its own. When the item's time runs out the item fails with "timed out after N s"; a plain function
  still running cannot be stopped (Python threads cannot be killed), so its thread is abandoned. Being a
  daemon thread of its own, it holds up neither the server's other work nor its shutdown.
- with ``isolation: "process"`` in a worker process (a
  :class:`~conveyor.processors.workers.WorkerPool`): the function's module is imported there, so it must
  be importable (from the server's working directory or ``sys.path``), and what it returns must pickle.
  The time limit kills the process; a crash (``os._exit``, a segfault) fails the item with the process's
  exit reason. ``memory_limit_mb`` limits the process's address space for the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from conveyor.errors import PermanentError, RetryableError
from conveyor.processors.base import Artifact, ArtifactType, ItemInput
from conveyor.processors.workers import WorkerDied, WorkerOutOfMemory, WorkerPool

ISOLATION_MODES = ("thread", "process")


class PythonProcessor:
    """Options: ``callable`` (required), ``isolation`` (``"thread"`` or ``"process"``), ``memory_limit_mb``
    (isolated calls only), plus anything else, passed to the function as ``options``."""

    kind: ClassVar[str] = "python"

    def __init__(self, search_paths: Sequence[Path] = (), workers: WorkerPool | None = None) -> None:
        self._search_paths = [str(p) for p in search_paths]
        self._cache: dict[str, Callable[..., Any]] = {}
        self.workers = workers or WorkerPool(1, name="python")

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        isolation = options.get("isolation", "thread")
        if isolation not in ISOLATION_MODES:
            raise PermanentError(f"isolation must be one of {', '.join(ISOLATION_MODES)}, not {isolation!r}")
        if isolation == "process":
            return to_artifacts(await self._in_process(item, options))
        func = self._resolve(options.get("callable"))
        kwargs = {"content": await asyncio.to_thread(item.read_bytes), "element": item.describe(),
                  "options": dict(options)}
        if inspect.iscoroutinefunction(func):
            return to_artifacts(await func(**kwargs))
        return to_artifacts(await in_own_thread(func, **kwargs))

    async def _in_process(self, item: ItemInput, options: Mapping[str, Any]) -> Any:
        spec = _spec(options.get("callable"))
        memory_mb = options.get("memory_limit_mb")
        limit = int(memory_mb) if isinstance(memory_mb, int | float) and memory_mb > 0 else 0
        try:
            return await self.workers.run(call_isolated, spec, self._search_paths, item.path, item.describe(),
                                          dict(options), memory_limit_mb=limit)
        except WorkerOutOfMemory as e:
            raise PermanentError(f"the callable ran out of memory{_limit(e.limit_mb)}") from e
        except WorkerDied as e:
            if e.starting:  # not the callable's doing
                raise RetryableError(f"a python worker could not start (it {e.reason})") from e
            raise PermanentError(f"the callable's process {e.reason}") from e

    def _resolve(self, spec: object) -> Callable[..., Any]:
        key = _spec(spec)
        if key not in self._cache:
            self._cache[key] = import_callable(key, self._search_paths)
        return self._cache[key]

    def close(self) -> None:
        self.workers.close()


def _spec(spec: object) -> str:
    if not isinstance(spec, str) or ":" not in spec:
        raise PermanentError("the python agent needs additional_properties.callable = 'package.module:function'")
    return spec


def _limit(limit_mb: int) -> str:
    return f" (limit {limit_mb} MB)" if limit_mb else ""


def import_callable(spec: str, search_paths: Sequence[str] = ()) -> Callable[..., Any]:
    """The object ``"package.module:attr.path"`` names; :class:`PermanentError` when it cannot be had."""
    module_name, _, attr = spec.partition(":")
    for path in search_paths:
        if path not in sys.path:
            sys.path.append(path)
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as e:
        raise PermanentError(f"cannot import callable {spec!r}: {e}") from e
    if not callable(target):
        raise PermanentError(f"{spec!r} is not callable")
    return target  # type: ignore[no-any-return]


async def in_own_thread(func: Callable[..., Any], **kwargs: Any) -> Any:
    """``func(**kwargs)`` in a new daemon thread. Unlike ``asyncio.to_thread``, a call that never returns
    ties up neither the loop's shared executor (which the server's own file I/O uses) nor shutdown."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def target() -> None:
        try:
            result = func(**kwargs)
        except Exception as e:
            error: Exception = e
        except BaseException as e:  # SystemExit and the like must not reach the server's event loop
            error = PermanentError(f"the callable raised {type(e).__name__}: {e}")
        else:
            _call_soon(loop, settle, lambda: future.set_result(result))
            return
        _call_soon(loop, settle, lambda: future.set_exception(error))

    threading.Thread(target=target, name=f"python-agent-{getattr(func, '__name__', 'call')}", daemon=True).start()
    return await future


def _call_soon(loop: asyncio.AbstractEventLoop, settle: Callable[[Callable[[], None]], None],
               outcome: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # an abandoned call may finish after the loop closed
        loop.call_soon_threadsafe(settle, outcome)


def call_isolated(spec: str, search_paths: Sequence[str], path: Path, element: dict[str, Any],
                  options: dict[str, Any]) -> Any:
    """In the worker process: import the callable (once per process), call it, return what it returned."""
    if spec not in _WORKER_CACHE:
        _WORKER_CACHE[spec] = import_callable(spec, search_paths)
    func = _WORKER_CACHE[spec]
    kwargs = {"content": path.read_bytes(), "element": element, "options": options}
    if inspect.iscoroutinefunction(func):
        return asyncio.run(func(**kwargs))
    return func(**kwargs)


_WORKER_CACHE: dict[str, Callable[..., Any]] = {}


def to_artifacts(result: object) -> list[Artifact]:
    """str → text, bytes → binary, dict → JSON, Artifact as is, a list of those, None → nothing."""
    if result is None:
        return []
    if isinstance(result, list | tuple):
        return [_one(value, index) for index, value in enumerate(result)]
    return [_one(result, None)]


def _one(value: object, index: int | None) -> Artifact:
    suffix = "" if index is None else f"-{index}"
    if isinstance(value, Artifact):
        return value
    if isinstance(value, str):
        return Artifact.text(value, name=f"text{suffix}")
    if isinstance(value, bytes | bytearray):
        return Artifact(name=f"binary{suffix}", type=ArtifactType.BINARY, data=bytes(value))
    if isinstance(value, dict):
        try:
            return Artifact.json(value, name=f"json{suffix}")
        except (TypeError, ValueError) as e:
            raise PermanentError(f"the callable returned a dict that is not JSON: {e}") from e
    raise PermanentError(f"the callable returned {type(value).__name__}; expected str, bytes, dict, "
                         "Artifact or a list of them")
