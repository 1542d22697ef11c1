"""The blob-store port: write a stream once, address it by its SHA-256."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobWriter(Protocol):
    """Receives one upload chunk by chunk, hashing as it goes; nothing is held whole in memory."""

    size: int

    async def write(self, chunk: bytes) -> None: ...

    async def commit(self) -> StoredBlob: ...

    async def abort(self) -> None: ...


class BlobStore(Protocol):
    def writer(self, max_size: int | None = None) -> BlobWriter: ...

    async def put_bytes(self, data: bytes) -> StoredBlob: ...

    def local_path(self, sha256: str) -> Path:
        """A path on this machine holding the blob's bytes (read-only for the caller)."""
        ...

    def iter_bytes(self, sha256: str, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]: ...

    async def exists(self, sha256: str) -> bool: ...

    async def delete(self, sha256: str) -> None: ...
