"""Python-agent functions for the tests: ``"tests.support.callables:NAME"``.

Each takes ``(content, element, options)`` like any user callable. State that must survive retries and
restarts (attempt counters, call logs) lives in files under ``options["state_dir"]``, since items may run
in any order, concurrently, and in another process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from conveyor import Artifact, PermanentError, RetryableError
from conveyor.processors.base import ArtifactType

SLEEP_ENV = "CONVEYOR_TEST_SLEEP"
CALLS_ENV = "CONVEYOR_TEST_CALLS"


def echo(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """What the function saw: the element's name, id, media type, size and the sha256 of its bytes."""
    return {"name": element["name"], "element_id": element["id"], "media_type": element["media_type"],
            "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def fail_matching(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """PermanentError for names matching ``options["fail_pattern"]``, else :func:`echo`."""
    if re.search(options["fail_pattern"], element["name"]):
        raise PermanentError(f"refusing {element['name']} on purpose")
    return echo(content, element, options)


def _state(options: dict[str, Any]) -> Path:
    path = Path(options["state_dir"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def count_call(options: dict[str, Any], element: dict[str, Any]) -> int:
    """Record one call for the element; returns how many calls it has had, this one included."""
    counter = _state(options) / f"{element['id']}.calls"
    calls = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(calls))
    return calls


def calls_of(state_dir: Path, element_id: str) -> int:
    counter = state_dir / f"{element_id}.calls"
    return int(counter.read_text()) if counter.exists() else 0


def flaky(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Fails with RetryableError N times per element, then echoes. N is the number after ``fail`` in the
    element's name (``fail2-x.txt`` fails twice), else ``options["failures"]`` (default 0)."""
    found = re.search(r"fail(\d+)", element["name"])
    failures = int(found.group(1)) if found else int(options.get("failures", 0))
    calls = count_call(options, element)
    if calls <= failures:
        raise RetryableError(f"transient failure {calls} of {failures}")
    return echo(content, element, options)


def partial_then_ok(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> list[Artifact]:
    """Two artifacts. On the first call the second one points to a missing file, so the first is written
    before the item fails; later calls return both properly."""
    calls = count_call(options, element)
    summary = Artifact.text(f"call {calls} of {element['name']}", name="summary")
    if calls == 1:
        return [summary, Artifact(name="extra", type=ArtifactType.TEXT, path=_state(options) / "missing")]
    return [summary, Artifact.text("extra", name="extra")]


async def sleepy(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Sleeps ``options["sleep"]`` seconds; with ``state_dir``, logs ``start``/``end`` lines in call order
    to ``events.log`` and counts calls per element."""
    log = _state(options) / "events.log" if "state_dir" in options else None
    if log is not None:
        count_call(options, element)
        _append(log, f"start {element['id']}")
    try:
        await asyncio.sleep(float(options.get("sleep", 0)))
    finally:
        if log is not None:
            _append(log, f"end {element['id']}")
    return echo(content, element, options)


def _append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(f"{line} {time.monotonic():.6f}\n")


def max_in_flight(state_dir: Path) -> int:
    """The most calls of :func:`sleepy` that were between their start and end at the same time."""
    current = peak = 0
    for line in (state_dir / "events.log").read_text().splitlines():
        current += 1 if line.startswith("start ") else -1
        peak = max(peak, current)
    return peak


def artifacts(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> list[Any]:
    """One artifact of each plain kind: text (str), binary (bytes) and JSON (dict)."""
    return [f"text of {element['name']}", b"\x00bytes of " + element["name"].encode(),
            {"name": element["name"], "size": len(content)}]


def unusual_outputs(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> list[Artifact]:
    """A JSON artifact whose bytes are not JSON, and a text and a JSON artifact of ``options["mib"]`` MiB."""
    size = int(float(options.get("mib", 0)) * (1 << 20))
    return [Artifact(name="broken", type=ArtifactType.JSON, data=b"{not json"),
            Artifact(name="long", type=ArtifactType.TEXT, data=b"a" * size),
            Artifact(name="big", type=ArtifactType.JSON, data=b'"' + b"b" * size + b'"')]


async def sleep_from_env(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """For the CLI, which passes no options: sleeps ``$CONVEYOR_TEST_SLEEP`` seconds and appends
    ``start NAME`` / ``end NAME`` to the file ``$CONVEYOR_TEST_CALLS`` when it is set."""
    calls = os.environ.get(CALLS_ENV)
    if calls:
        _append(Path(calls), f"start {element['name']}")
    await asyncio.sleep(float(os.environ.get(SLEEP_ENV, "0")))
    if calls:
        _append(Path(calls), f"end {element['name']}")
    return echo(content, element, options)


async def jitter_sleep(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Sleeps a random 0–``options["max_sleep"]`` seconds (default 0.05), then returns one small JSON
    artifact naming the element: an I/O-bound job of uneven length, for the crash test."""
    await asyncio.sleep(random.uniform(0, float(options.get("max_sleep", 0.05))))
    return {"name": element["name"], "element_id": element["id"], "size": len(content)}


def faulty(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """For names ``f-NNN``: NNN % 100 == 0 fails permanently; NNN % 10 < 3 fails once, transiently
    (about 30% of files); the rest succeed at once."""
    index = int(element["name"].split("-")[1].split(".")[0])
    if index % 100 == 0:
        raise PermanentError(f"{element['name']} is corrupt")
    if index % 10 < 3 and count_call(options, element) == 1:
        raise RetryableError("upstream answered 503", retry_after=0.0)
    return {"name": element["name"]}


def block(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """A plain function that does not return for ``options["sleep"]`` seconds; with ``state_dir``, first
    writes its process id to ``NAME.pid`` there."""
    if "state_dir" in options:
        (_state(options) / f"{element['name']}.pid").write_text(str(os.getpid()))
    time.sleep(float(options.get("sleep", 3600)))
    return echo(content, element, options)


def crash(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> None:
    """Ends its process at once with exit code ``options["code"]`` (default 7), as a native crash would."""
    os._exit(int(options.get("code", 7)))


def allocate(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Holds ``options["mb"]`` megabytes for a moment, then reports its process id."""
    block_of_memory = bytearray(int(options["mb"]) * 1024 * 1024)
    return {"allocated": len(block_of_memory), "pid": os.getpid()}


def whoami(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The process id the call ran in, and the element's name."""
    return {"pid": os.getpid(), "name": element["name"]}
