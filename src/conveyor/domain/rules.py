"""Validation rules shared by every API face: filters, cron, names, limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter

from conveyor.errors import InvalidInputError

CONCURRENCY_RANGE = (1, 999)
RETRY_LIMIT_RANGE = (0, 999)
DEFAULT_CONCURRENCY = 10
DEFAULT_RETRY_LIMIT = 2


def validate_regex(pattern: str | None, loc: tuple[str | int, ...]) -> str | None:
    """Compile a user regex, turning a bad one into a 422-style error."""
    if pattern is None:
        return None
    try:
        re.compile(pattern)
    except re.error as e:
        raise InvalidInputError(f"invalid regular expression: {e}", loc=loc) from e
    return pattern


def validate_cron(expression: str | None, loc: tuple[str | int, ...]) -> str | None:
    """Accept a croniter expression (5 or 6 fields) or None."""
    if expression is None or expression.strip() == "":
        return None
    if not croniter.is_valid(expression):
        raise InvalidInputError(f"invalid cron expression: {expression!r}", loc=loc)
    return expression.strip()


def next_fire(expression: str, after: datetime) -> datetime:
    value: datetime = croniter(expression, after).get_next(datetime)
    return value


def kebab_case(display_name: str) -> str:
    """``"Invoice Extractor 2"`` → ``"invoice-extractor-2"``."""
    return re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-") or "unnamed"


@dataclass(frozen=True)
class ElementFilter:
    """Which elements of a container a run takes: regex on the name, media types, explicit ids."""

    regex: str | None = None
    media_types: tuple[str, ...] | None = None
    element_ids: tuple[str, ...] | None = None

    def matches(self, name: str, media_type: str, element_id: str) -> bool:
        if self.element_ids is not None and element_id not in self.element_ids:
            return False
        if self.media_types is not None and not _media_type_matches(media_type, self.media_types):
            return False
        return self.regex is None or re.search(self.regex, name) is not None

    def to_json(self) -> dict[str, object] | None:
        if self.regex is None and self.media_types is None and self.element_ids is None:
            return None
        return {"regex": self.regex,
                "media_types": list(self.media_types) if self.media_types is not None else None,
                "element_ids": list(self.element_ids) if self.element_ids is not None else None}

    @classmethod
    def from_json(cls, value: dict[str, object] | None) -> ElementFilter:
        if not value:
            return cls()
        media = value.get("media_types")
        ids = value.get("element_ids")
        regex = value.get("regex")
        return cls(regex=str(regex) if regex is not None else None,
                   media_types=tuple(str(m) for m in media) if isinstance(media, list) else None,
                   element_ids=tuple(str(i) for i in ids) if isinstance(ids, list) else None)


def _media_type_matches(media_type: str, wanted: tuple[str, ...]) -> bool:
    """Exact match, or a ``type/*`` wildcard."""
    for pattern in wanted:
        if pattern == media_type or (pattern.endswith("/*") and media_type.startswith(pattern[:-1])):
            return True
    return False
