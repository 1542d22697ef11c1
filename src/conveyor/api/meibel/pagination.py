"""The offset-paged list shape the agents and artifact-schemas resources share (``data`` + ``next_cursor``)."""

from __future__ import annotations

from typing import Any


def offset_page(rows: list[dict[str, Any]], total: int, offset: int, limit: int | None) -> dict[str, Any]:
    """``next_cursor`` is the next offset, which the SDK sends back as ``offset``."""
    following = offset + len(rows)
    return {"data": rows, "total": total, "offset": offset, "limit": limit,
            "next_cursor": following if rows and following < total else None}
