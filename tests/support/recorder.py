"""Which methods of a vendor SDK a conformance test called: the test asserts it called them all."""

from __future__ import annotations

from typing import Any


class Recorder:
    """Wraps an SDK resource and records which methods the tests call."""

    def __init__(self, target: Any, prefix: str, called: set[str]) -> None:
        self._target, self._prefix, self._called = target, prefix, called

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value):
            self._called.add(f"{self._prefix}.{name}")
        return value
