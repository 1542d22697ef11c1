"""User functions that the live server imports for python agents in the conformance tests."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from conveyor import PermanentError


def fail_matching(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Fail permanently on names matching ``options['fail_pattern']``; else describe the element."""
    if re.search(options["fail_pattern"], element["name"]):
        raise PermanentError(f"refusing {element['name']}: matches {options['fail_pattern']}")
    return {"name": element["name"], "bytes": len(content)}


async def slow(content: bytes, element: dict[str, Any], options: dict[str, Any]) -> str:
    await asyncio.sleep(float(options.get("sleep", 5)))
    return f"{element['name']}: {len(content)} bytes"
