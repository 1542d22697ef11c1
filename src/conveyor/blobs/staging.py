"""Parts of multipart uploads, staged as files under the blob directory until they are assembled.

Layout: ``ROOT/<session id>/part-<n>-<part id>``. A part is written to a temporary file beside it and
renamed into place, so a reader never sees half a part; a re-sent part gets a new part id and so a file of
its own, and a commit reads the files of the part ids it checked, whatever is sent meanwhile.
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

from conveyor.errors import ConflictError, InvalidInputError

READ_CHUNK = 1 << 20
CLOSED_WHILE_SENT = "the upload session was closed while this part was being sent"


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

    def part_path(self, session_id: str, part_num: int, part_id: str) -> Path:
        return self.session_dir(session_id) / f"part-{part_num}-{part_id}"

    async def write_part(self, session_id: str, part_num: int, part_id: str, chunks: AsyncIterator[bytes],
                         expected_size: int) -> StagedPart:
        """Stream one part to disk; it must be exactly ``expected_size`` bytes (422 otherwise). A session
        discarded while the part streams (aborted, committed, swept) is a conflict (409)."""
        try:
            return await _write(self.part_path(session_id, part_num, part_id), part_num, chunks, expected_size)
        except FileNotFoundError as e:
            raise ConflictError(CLOSED_WHILE_SENT) from e

    async def read_parts(self, session_id: str, parts: Iterable[tuple[int, str]]) -> AsyncIterator[bytes]:
        """The bytes of the parts ``(part_num, part_id)``, in the order given, one read chunk at a time
        (memory stays flat)."""
        for part_num, part_id in parts:
            with self._open(session_id, part_num, part_id) as f:
                while chunk := await asyncio.to_thread(f.read, READ_CHUNK):
                    yield chunk

    def _open(self, session_id: str, part_num: int, part_id: str) -> BinaryIO:
        try:
            return self.part_path(session_id, part_num, part_id).open("rb")
        except FileNotFoundError as e:
            raise ConflictError(f"part {part_num} of the upload session was discarded while it was being "
                                "committed") from e

    async def remove_part(self, session_id: str, part_num: int, part_id: str) -> None:
        await asyncio.to_thread(self.part_path(session_id, part_num, part_id).unlink, missing_ok=True)

    async def discard(self, session_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.session_dir(session_id), True)

    def session_ids(self) -> list[str]:
        """Every session with a folder here (parts staged or being written)."""
        return [p.name for p in self.root.iterdir() if p.is_dir()]


async def _write(path: Path, part_num: int, chunks: AsyncIterator[bytes], expected: int) -> StagedPart:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            staged = await _copy(chunks, f, part_num, expected)
        await asyncio.to_thread(os.replace, tmp, path)
    finally:
        await asyncio.to_thread(tmp.unlink, missing_ok=True)
    return staged


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
