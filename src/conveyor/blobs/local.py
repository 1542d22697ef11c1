"""Blobs as files under one directory: ``ab/cd/abcdef…``; writes go to a temp file then rename."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from conveyor.blobs.base import StoredBlob
from conveyor.errors import NotFoundError, PayloadTooLargeError


class LocalBlobWriter:
    def __init__(self, store: LocalBlobStore, max_size: int | None) -> None:
        self._store = store
        self._max_size = max_size
        self._hash = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="up-")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._max_size is not None and self.size > self._max_size:
            await self.abort()
            raise PayloadTooLargeError(f"file is larger than the {self._max_size}-byte upload limit")
        self._hash.update(chunk)
        self._file.write(chunk)

    async def commit(self) -> StoredBlob:
        self._file.close()
        digest = self._hash.hexdigest()
        target = self._store.local_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(os.replace, self._tmp, target)
        return StoredBlob(sha256=digest, size=self.size)

    async def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def writer(self, max_size: int | None = None) -> LocalBlobWriter:
        return LocalBlobWriter(self, max_size)

    async def put_bytes(self, data: bytes) -> StoredBlob:
        writer = self.writer()
        await writer.write(data)
        return await writer.commit()

    def local_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def iter_bytes(self, sha256: str, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        path = self.local_path(sha256)
        if not path.exists():
            raise NotFoundError(f"blob {sha256} is missing from storage")
        with path.open("rb") as f:
            while chunk := await asyncio.to_thread(f.read, chunk_size):
                yield chunk

    async def exists(self, sha256: str) -> bool:
        return self.local_path(sha256).exists()

    async def delete(self, sha256: str) -> None:
        self.local_path(sha256).unlink(missing_ok=True)
