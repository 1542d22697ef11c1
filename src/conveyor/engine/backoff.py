"""Exponential backoff with full jitter: 1 s, ×2, capped at 60 s; a server's Retry-After wins if longer."""

from __future__ import annotations

import random

BASE_SECONDS = 1.0
FACTOR = 2.0
CAP_SECONDS = 60.0


def retry_delay(attempt: int, retry_after: float | None = None, rng: random.Random | None = None, *,
                cap: float = CAP_SECONDS) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    ceiling = min(cap, BASE_SECONDS * FACTOR ** min(max(attempt - 1, 0), 60))
    delay = (rng or random).uniform(0, ceiling)
    return max(delay, retry_after) if retry_after is not None else delay
