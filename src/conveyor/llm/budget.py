"""A provider's request and token budget, shared by every run on this server.

Two token buckets (requests per minute, tokens per minute) refill continuously. A call reserves one
request and its estimated tokens before it is sent and settles the difference with the real usage after.
A provider's 429 with ``Retry-After`` pauses the whole budget, so other items do not walk into the same
wall. While a caller waits it is counted on the :class:`~conveyor.processors.base.ThrottleGauge` under its
run id, which is how a run waiting on the budget shows THROTTLED.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from conveyor.processors.base import ThrottleGauge

WINDOW_SECONDS = 60.0


@dataclass
class _Bucket:
    """``capacity`` units that refill over a minute; a capacity of 0 means unlimited."""

    capacity: float
    level: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = self.capacity

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.capacity / WINDOW_SECONDS)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (a request larger than the capacity waits for a full one)."""
        if not self.capacity:
            return 0.0
        missing = min(amount, self.capacity) - self.level
        return max(0.0, missing * WINDOW_SECONDS / self.capacity)

    def take(self, amount: float) -> None:
        if self.capacity:
            self.level -= amount


class Budget:
    """The shared budget of one provider."""

    def __init__(self, requests_per_minute: int, tokens_per_minute: int, gauge: ThrottleGauge) -> None:
        self._requests = _Bucket(float(requests_per_minute))
        self._tokens = _Bucket(float(tokens_per_minute))
        self._gauge = gauge
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def reserve(self, tokens: int, run_id: str) -> None:
        """Wait until one request and ``tokens`` tokens fit, then take them."""
        if not self._lock.locked() and self._try_take(tokens) == 0:  # nobody queued ahead: go
            return
        with self._gauge.waiting(run_id):
            async with self._lock:  # first come, first served among waiters
                while (delay := self._try_take(tokens)) > 0:  # noqa: ASYNC110 - waiting on time, not on an event
                    await asyncio.sleep(delay)

    def settle(self, estimated: int, actual: int) -> None:
        """Correct a reservation once the real token count is known."""
        self._tokens.refill(time.monotonic())
        self._tokens.take(actual - estimated)

    def pause(self, seconds: float) -> None:
        """The provider said to back off: nobody sends for ``seconds``."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _try_take(self, tokens: int) -> float:
        now = time.monotonic()
        if now < self._paused_until:
            return self._paused_until - now
        self._requests.refill(now)
        self._tokens.refill(now)
        delay = max(self._requests.wait_for(1), self._tokens.wait_for(tokens))
        if delay == 0:
            self._requests.take(1)
            self._tokens.take(tokens)
        return delay
