"""Waiting on a live server from synchronous tests: the timeout only guards against a hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(check: Callable[[], Any], timeout: float = 300, interval: float = 0.3,
               what: str = "the condition") -> Any:
    """``check()``'s first truthy value, polling every ``interval`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
