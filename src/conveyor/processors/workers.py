"""Worker processes with limits, for work on untrusted input or user code.

A :class:`WorkerPool` keeps up to ``size`` worker processes, each a fresh interpreter serving one call at a
time over its own pipe. A call may carry a time limit and a memory limit. A call that runs out of time,
or whose caller is cancelled, has its worker killed; a fresh one is started for the next call. Calls
running on the other workers carry on untouched. Workers die with the process that started them, even
mid-call (Linux ``PR_SET_PDEATHSIG``, tied to the starting thread: the event loop's), so a server killed
hard leaves no parser running.

Why this design. ``ProcessPoolExecutor`` cannot stop one running call: the only way to stop a stuck
call is to kill the pool's processes, and every other call in flight dies with them (they would have to
be retried, redoing their work). A process per call isolates perfectly but pays for a fresh interpreter
and the parser imports on every file. Long-lived single-call workers cost the same per call as the
executor (one pickled round trip over a pipe), and only a killed call pays for a new process. Measured
on 2 cores with ``bench/parse_workers.py`` (1,000 small documents, 2 workers): executor 2.8 ms/file,
this pool 2.9 ms/file, a process per file 228 ms/file; parsing in the server itself 2.5 ms/file.
Workers are started as ``python -c`` with the parent's ``sys.path`` rather than through
``multiprocessing``'s spawn, which would import the parent's ``__main__`` again (for the server, the
whole web stack: about 0.8 s and 50 MB more per worker). So a function to run must live in an importable
module, not in a script's ``__main__``.

Memory. The limit is ``RLIMIT_AS``, the address space a worker may reserve, set in the worker before it
imports anything (a per-call limit may lower it for one call, never raise it). A call that hits it gets
``MemoryError`` (or a library's own allocation failure), and the pool reports :class:`WorkerOutOfMemory`
and replaces the worker, whose heap may be left in a bad state. Native code may instead abort the process
(PDFium does): that is a :class:`WorkerDied`, with :attr:`WorkerDied.maybe_out_of_memory` set. Address
space is not resident memory: glibc gives each allocating thread its own malloc arena with 64 MB of
address space reserved, so a library with a thread pool (onnxruntime, used for OCR) reserves far more
than it touches. Workers therefore cap the arenas at two (``mallopt(M_ARENA_MAX)``), which makes the
limit follow real use. Measured with rapidocr-onnxruntime on 2 cores (``bench/worker_memory.py``): an idle
parse worker reserves 60-70 MB; OCR of an A4 page rendered at 300 dpi peaks at 1.3 GB of address space in
a worker (1.6-1.9 GB in a plain interpreter), of a 1473×2000 scan at 1.2 GB (1.4-1.6 GB); resident memory
stays under 0.9 GB. Hence the 2 GB default for parse workers. Core dumps are turned off in workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import multiprocessing
import os
import pickle
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, ClassVar, Final

from conveyor.errors import ConveyorError, PermanentError, RetryableError

MB: Final = 1024 * 1024
STARTUP_SECONDS: Final = 120.0
"""How long a new worker may take to import its modules before it counts as crashed."""
RECYCLE_AFTER_CALLS: Final = 200
"""A worker is replaced after this many calls, so slow leaks in native libraries cannot add up to the limit."""
_M_ARENA_MAX: Final = -8
_PR_SET_PDEATHSIG: Final = 1
_OUT_OF_MEMORY_WORDS: Final = ("memory allocation failed", "bad_alloc", "out of memory", "cannot allocate memory",
                               "can't start new thread")

# what a worker answers with
_OK, _ERROR, _MEMORY = "ok", "error", "memory"
# what the parent concludes when there is no answer
_TIMED_OUT, _DIED = "timed-out", "died"


class WorkerError(ConveyorError):
    """The worker process could not finish the call."""


class WorkerTimeout(WorkerError):
    """The call ran out of time; its worker was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the call took longer than {seconds:g} s", seconds=seconds)
        self.seconds = seconds


class WorkerOutOfMemory(WorkerError):
    """The call ran out of memory; its worker was replaced."""

    def __init__(self, limit_mb: int) -> None:
        limit = f" (limit {limit_mb} MB)" if limit_mb else ""
        super().__init__(f"the call ran out of memory{limit}", limit_mb=limit_mb)
        self.limit_mb = limit_mb


class WorkerDied(WorkerError):
    """The worker process ended during the call (a crash, a kill, or ``os._exit``)."""

    ALLOCATION_CRASHES: ClassVar = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGTRAP,
                                              signal.SIGILL, signal.SIGKILL})
    """How native code (and the kernel's OOM killer) ends a process that could not get memory."""

    def __init__(self, exitcode: int | None, *, starting: bool = False) -> None:
        self.reason = exit_reason(exitcode)
        self.exitcode = exitcode
        self.starting = starting
        what = "the worker process failed to start" if starting else "the worker process"
        super().__init__(f"{what}: it {self.reason}", exitcode=exitcode)

    @property
    def maybe_out_of_memory(self) -> bool:
        """Killed by a signal that native code raises when an allocation fails (no way to be sure)."""
        return self.exitcode is not None and -self.exitcode in self.ALLOCATION_CRASHES


def exit_reason(exitcode: int | None) -> str:
    """``-11`` → "was killed by SIGSEGV", ``3`` → "exited with code 3"."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


@dataclass(frozen=True)
class _Call:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    memory_limit_mb: int


class WorkerPool:
    """Up to ``size`` worker processes; :meth:`run` calls a module-level function in one of them.

    ``memory_limit_mb`` (0 = none) caps every worker; ``preload`` names modules each worker imports when
    it starts, before any call's clock runs.
    """

    def __init__(self, size: int, *, memory_limit_mb: int = 0, preload: Sequence[str] = (),
                 name: str = "worker") -> None:
        self.size = size
        self.memory_limit_mb = memory_limit_mb
        self._preload = tuple(preload)
        self._idle: list[_Worker] = []
        self._live: set[_Worker] = set()
        self._threads = ThreadPoolExecutor(max_workers=2 * size, thread_name_prefix=f"{name}-pipe")
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def run(self, func: Callable[..., Any], *args: Any, time_limit: float | None = None,
                  memory_limit_mb: int = 0) -> Any:
        """``func(*args)`` in a worker. Raises what ``func`` raised, or :class:`WorkerTimeout`,
        :class:`WorkerOutOfMemory`, :class:`WorkerDied`. Cancelling the caller kills the worker."""
        limit = self.effective_memory_limit(memory_limit_mb)
        async with self._semaphore():
            worker = self._take()
            exchange = self._threads.submit(worker.exchange, _Call(func, args, limit), time_limit)
            try:
                kind, value = await asyncio.wrap_future(exchange)
            except BaseException:
                # cancelled: the call may be stuck, and nobody waits for its answer any more
                worker.kill()
                exchange.add_done_callback(lambda _: worker.dispose())
                self._live.discard(worker)
                raise
            self._put_back(worker)
        return _outcome(kind, value, time_limit, limit)

    def effective_memory_limit(self, requested_mb: int) -> int:
        """The limit a call runs under: the lower of the pool's and the call's (0 = none)."""
        limits = [mb for mb in (self.memory_limit_mb, requested_mb) if mb > 0]
        return min(limits, default=0)

    def close(self) -> None:
        """Kill every worker; calls in flight end with :class:`WorkerDied`."""
        for worker in list(self._live):
            worker.kill()
        for worker in self._idle:
            worker.dispose()
        self._idle.clear()
        self._live.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.pid for w in list(self._live) if w.pid is not None]

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.size))
        return self._slots[1]

    def _take(self) -> _Worker:
        """An idle worker that is still alive (one may have been killed from outside), else a new one."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.poll() is None:
                return worker
            worker.dispose()
            self._live.discard(worker)
        return self._start()

    def _start(self) -> _Worker:
        worker = _Worker(self.memory_limit_mb, self._preload)
        self._live.add(worker)
        return worker

    def _put_back(self, worker: _Worker) -> None:
        if worker.usable:
            self._idle.append(worker)
        else:
            self._live.discard(worker)


def _outcome(kind: str, value: Any, time_limit: float | None, memory_limit_mb: int) -> Any:
    if kind == _OK:
        return value
    if kind == _ERROR:
        raise value
    if kind == _MEMORY:
        raise WorkerOutOfMemory(memory_limit_mb)
    if kind == _TIMED_OUT:
        raise WorkerTimeout(time_limit or 0.0)
    starting, exitcode = value
    raise WorkerDied(exitcode, starting=starting)


class _Worker:
    """One worker process and the parent's end of its pipe. :meth:`exchange` runs in a pool thread."""

    def __init__(self, memory_limit_mb: int, preload: tuple[str, ...]) -> None:
        self._conn, child = multiprocessing.Pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, str(child.fileno()), *sys.path],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL)
        child.close()
        self._conn.send((memory_limit_mb, preload))
        self.pid = self.process.pid
        self._exited = _exit_sentinel(self.pid)
        self._ready = False
        self._calls = 0
        self.usable = True

    def exchange(self, call: _Call, time_limit: float | None) -> tuple[str, Any]:
        """Send the call and wait for its answer; a worker that times out is killed here."""
        try:
            if not self._ready and not self._await_ready():
                return self._gone(starting=True)
            self._conn.send(call)
            self._calls += 1
            if not self._wait(time_limit):
                return self._gone(kind=_TIMED_OUT)
            if not self._conn.poll():
                return self._gone()
            answer: tuple[str, Any] = self._conn.recv()
        except (EOFError, OSError):
            return self._gone()
        except Exception as e:  # the answer arrived but cannot be unpickled here
            answer = (_ERROR, PermanentError(f"the worker's answer could not be read: {type(e).__name__}: {e}"))
        if answer[0] == _MEMORY or self._calls >= RECYCLE_AFTER_CALLS:
            self._retire()
        return answer

    def _wait(self, timeout: float | None) -> bool:
        """Until the worker answers or exits (its pipe also reports the exit, as end of file)."""
        watched: list[Any] = [self._conn] if self._exited is None else [self._conn, self._exited]
        return bool(wait(watched, timeout))

    def _await_ready(self) -> bool:
        if not self._wait(STARTUP_SECONDS) or not self._conn.poll():
            return False
        self._ready = self._conn.recv() == (_OK, None)
        return self._ready

    def _gone(self, *, kind: str = _DIED, starting: bool = False) -> tuple[str, Any]:
        """The worker timed out or died: make sure it is dead and reaped, and say so."""
        self._retire()
        return kind, (starting, self.process.returncode)

    def _retire(self) -> None:
        self.usable = False
        self.dispose()

    def kill(self) -> None:
        """Stop the process now; whoever waits on it reaps it."""
        self.usable = False
        self.process.kill()  # a no-op once the process has been reaped

    def dispose(self) -> None:
        """Kill, reap and close; safe to call more than once and from any thread."""
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._conn.close()
        if self._exited is not None:
            with contextlib.suppress(OSError):
                os.close(self._exited)
            self._exited = None


def _exit_sentinel(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` exits (Linux); None where there is none."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


# the worker process -------------------------------------------------------------------------------------

_BOOTSTRAP: Final = ("import sys; sys.path[:] = sys.argv[2:]; "
                     "from conveyor.processors.workers import serve; serve(int(sys.argv[1]))")
"""How a worker starts: with the parent's ``sys.path`` and nothing else imported (not the parent's
``__main__``, which a spawn-context process would import again: for the server, the whole web stack)."""


def serve(fd: int) -> None:
    """A worker's main loop: set its limits, import what it was told to, then answer calls until the
    parent closes the pipe (or dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    conn = Connection(fd)
    memory_limit_mb, preload = conn.recv()
    _limit_process(memory_limit_mb)
    for module in preload:
        importlib.import_module(module)
    conn.send((_OK, None))
    while True:
        try:
            call: _Call = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as e:  # the call does not unpickle here (a function this process cannot import)
            conn.send((_ERROR, _sendable(e)))
            continue
        if _answer(conn, call) == _MEMORY:
            return  # after an allocation failure the heap may be inconsistent: start afresh


def _limit_process(memory_limit_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _die_with_parent()
    _cap_malloc_arenas()
    if memory_limit_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_mb * MB, memory_limit_mb * MB))


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the server dies, even in the middle of a call
    (an idle worker notices on its own: its pipe closes)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _cap_malloc_arenas() -> None:
    """glibc only; elsewhere there is nothing to cap."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)


def _answer(conn: Connection, call: _Call) -> str:
    """Run one call under its memory limit and send the outcome; returns the outcome's kind."""
    with _memory_limit(call.memory_limit_mb):
        try:
            kind, value = _OK, call.func(*call.args)
        except Exception as e:
            kind, value = (_MEMORY, None) if _out_of_memory(e) else (_ERROR, _sendable(e))
        try:
            conn.send((kind, value))
        except MemoryError:
            kind = _MEMORY
            conn.send((kind, None))
        except Exception as e:  # the result does not pickle
            kind = _ERROR
            conn.send((kind, PermanentError(f"the result cannot be passed back from the worker process: {e}")))
    return kind


@contextlib.contextmanager
def _memory_limit(limit_mb: int) -> Iterator[None]:
    """Lower the soft address-space limit for one call (the hard limit is the worker's own)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if limit_mb <= 0:
        yield
        return
    wanted = limit_mb * MB if hard == resource.RLIM_INFINITY else min(limit_mb * MB, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _out_of_memory(error: BaseException) -> bool:
    """``MemoryError`` anywhere in the chain, or a library's message for a failed allocation."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MemoryError) or any(w in str(current).lower() for w in _OUT_OF_MEMORY_WORDS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _sendable(error: Exception) -> Exception:
    """The exception itself if it survives pickling, else a :class:`RetryableError` saying what it was
    (an unknown error counts as retryable, as it would in the server process)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RetryableError(f"{type(error).__name__}: {error}")
    return error
