"""Exponential backoff with full jitter: 1 s, ×2, capped at 60 s; a server's Retry-After wins if longer
(up to :data:`MAX_RETRY_AFTER_SECONDS`: a server cannot park an item, or a budget, forever)."""

from __future__ import annotations

import email.utils
import math
import random
import time

BASE_SECONDS = 1.0
FACTOR = 2.0
CAP_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 3600.0


def retry_delay(attempt: int, retry_after: float | None = None, rng: random.Random | None = None, *,
                cap: float = CAP_SECONDS) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    ceiling = min(cap, BASE_SECONDS * FACTOR ** min(max(attempt - 1, 0), 60))
    delay = (rng or random).uniform(0, ceiling)
    return max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS)) if retry_after is not None else delay


def parse_retry_after(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` header in seconds (a number or an HTTP date), capped at an hour; None when
    absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
