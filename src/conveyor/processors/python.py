"""The ``python`` processor: calls a user function ``"package.module:function"`` on each element."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from conveyor.errors import PermanentError
from conveyor.processors.base import Artifact, ArtifactType, ItemInput


class PythonProcessor:
    """Options: ``callable`` (required) plus anything else, passed to the function as ``options``."""

    kind: ClassVar[str] = "python"

    def __init__(self, search_paths: Sequence[Path] = ()) -> None:
        self._search_paths = [str(p) for p in search_paths]
        self._cache: dict[str, Callable[..., Any]] = {}

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        func = self._resolve(options.get("callable"))
        kwargs = {"content": await asyncio.to_thread(item.read_bytes), "element": item.describe(),
                  "options": dict(options)}
        if inspect.iscoroutinefunction(func):
            result = await func(**kwargs)
        else:
            result = await asyncio.to_thread(func, **kwargs)
        return to_artifacts(result)

    def _resolve(self, spec: object) -> Callable[..., Any]:
        if not isinstance(spec, str) or ":" not in spec:
            raise PermanentError("the python agent needs additional_properties.callable = 'package.module:function'")
        if spec not in self._cache:
            self._cache[spec] = self._import(spec)
        return self._cache[spec]

    def _import(self, spec: str) -> Callable[..., Any]:
        module_name, _, attr = spec.partition(":")
        for path in self._search_paths:
            if path not in sys.path:
                sys.path.append(path)
        try:
            target: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as e:
            raise PermanentError(f"cannot import callable {spec!r}: {e}") from e
        if not callable(target):
            raise PermanentError(f"{spec!r} is not callable")
        return target  # type: ignore[no-any-return]


def to_artifacts(result: object) -> list[Artifact]:
    """str → text, bytes → binary, dict → JSON, Artifact as is, a list of those, None → nothing."""
    if result is None:
        return []
    if isinstance(result, list | tuple):
        return [_one(value, index) for index, value in enumerate(result)]
    return [_one(result, None)]


def _one(value: object, index: int | None) -> Artifact:
    suffix = "" if index is None else f"-{index}"
    if isinstance(value, Artifact):
        return value
    if isinstance(value, str):
        return Artifact.text(value, name=f"text{suffix}")
    if isinstance(value, bytes | bytearray):
        return Artifact(name=f"binary{suffix}", type=ArtifactType.BINARY, data=bytes(value))
    if isinstance(value, dict):
        try:
            return Artifact.json(value, name=f"json{suffix}")
        except (TypeError, ValueError) as e:
            raise PermanentError(f"the callable returned a dict that is not JSON: {e}") from e
    raise PermanentError(f"the callable returned {type(value).__name__}; expected str, bytes, dict, "
                         "Artifact or a list of them")
