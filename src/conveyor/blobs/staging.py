"""Parts of multipart uploads, staged as files under the blob directory until they are assembled.

Layout: ``ROOT/<session id>/part-<n>``. A part is written to a temporary file beside it and renamed into
place, so a re-sent part replaces the old one whole and a reader never sees half a part.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from conveyor.errors import InvalidInputError

READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class StagedPart:
    size: int
    sha256: str


class PartStaging:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def session_dir(self, session_id: str) -> Path:
        return self.root / session_id

    def part_path(self, session_id: str, part_num: int) -> Path:
        return self.session_dir(session_id) / f"part-{part_num}"

    async def write_part(self, session_id: str, part_num: int, chunks: AsyncIterator[bytes],
                         expected_size: int) -> StagedPart:
        """Stream one part to disk; it must be exactly ``expected_size`` bytes (422 otherwise)."""
        folder = self.session_dir(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".part-{part_num}-")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                staged = await _copy(chunks, f, part_num, expected_size)
            await asyncio.to_thread(os.replace, tmp, self.part_path(session_id, part_num))
        finally:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
        return staged

    async def read_parts(self, session_id: str, part_nums: Iterable[int]) -> AsyncIterator[bytes]:
        """The parts' bytes, in the order given, one read chunk at a time (memory stays flat)."""
        for part_num in part_nums:
            with self.part_path(session_id, part_num).open("rb") as f:
                while chunk := await asyncio.to_thread(f.read, READ_CHUNK):
                    yield chunk

    async def discard(self, session_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.session_dir(session_id), True)

    def session_ids(self) -> list[str]:
        """Every session with a folder here (parts staged or being written)."""
        return [p.name for p in self.root.iterdir() if p.is_dir()]


async def _copy(chunks: AsyncIterator[bytes], f: BinaryIO, part_num: int, expected: int) -> StagedPart:
    digest = hashlib.sha256()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > expected:
            raise InvalidInputError(f"part {part_num} must be {expected} bytes; more were sent", loc=("body",))
        digest.update(chunk)
        f.write(chunk)
    if size != expected:
        raise InvalidInputError(f"part {part_num} must be {expected} bytes; {size} were sent", loc=("body",))
    return StagedPart(size=size, sha256=digest.hexdigest())
