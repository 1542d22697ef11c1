"""LlamaCloud ids (``dir-…``, ``dfl-…``, ``bat-…`` …) for core objects, through the shared face-id table.

An id is minted the first time a core object is shown through this face (a container made through the
Meibel face gets its ``dir-`` id when first listed here) and kept: the mapping row is the only link
between the two, never a rewrite of one id into the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

from conveyor.errors import ConflictError, NotFoundError
from conveyor.store.face_ids import FaceIdsRepo, FaceKey

FACE = "llamacloud"


class IdKind(StrEnum):
    """Kinds of LlamaCloud ids, each with its prefix."""

    PROJECT = "project"
    DIRECTORY = "directory"
    FILE = "file"
    BATCH = "batch"
    PARSE_JOB = "parse_job"
    EXTRACT_JOB = "extract_job"
    CONFIGURATION = "configuration"

    @property
    def prefix(self) -> str:
        return _PREFIXES[self]

    @property
    def noun(self) -> str:
        return self.value.replace("_", " ")


_PREFIXES = {IdKind.PROJECT: "prj", IdKind.DIRECTORY: "dir", IdKind.FILE: "dfl", IdKind.BATCH: "bat",
             IdKind.PARSE_JOB: "pjb", IdKind.EXTRACT_JOB: "ext", IdKind.CONFIGURATION: "cfg"}


def mint(kind: IdKind) -> str:
    """A new id of ``kind``: its prefix and a random UUID (``dir-8c0f…``)."""
    return f"{kind.prefix}-{uuid.uuid4()}"


class LlamaIds:
    """One project's LlamaCloud ids."""

    def __init__(self, repo: FaceIdsRepo, project_id: str) -> None:
        self._repo = repo
        self._project_id = project_id

    def _key(self, kind: IdKind) -> FaceKey:
        return FaceKey(self._project_id, FACE, kind.value)

    async def external(self, kind: IdKind, core_id: str) -> str:
        """The LlamaCloud id of a core object, minted now if it has none yet."""
        found = await self._repo.external_id(self._key(kind), core_id)
        return found if found is not None else await self._assign(kind, core_id, mint(kind))

    async def externals(self, kind: IdKind, core_ids: Sequence[str]) -> dict[str, str]:
        """LlamaCloud ids of many core objects at once (the missing ones minted in one write)."""
        found = await self._repo.external_ids(self._key(kind), list(core_ids)) if core_ids else {}
        missing = {core_id: mint(kind) for core_id in dict.fromkeys(core_ids) if core_id not in found}
        try:
            await self._repo.assign_many(self._key(kind), missing)
        except ConflictError:  # a concurrent request minted some of them: take each one's winner
            return {core_id: await self.external(kind, core_id) for core_id in core_ids}
        return {**found, **missing}

    async def assign(self, kind: IdKind, external_id: str, core_id: str) -> None:
        """Record a chosen id (a preset's ``cfg-PARSE_FAST``, say) for a core object."""
        await self._repo.assign(self._key(kind), external_id, core_id)

    async def _assign(self, kind: IdKind, core_id: str, external_id: str) -> str:
        try:
            await self._repo.assign(self._key(kind), external_id, core_id)
        except ConflictError:  # a concurrent request minted one first: theirs is the id
            found = await self._repo.external_id(self._key(kind), core_id)
            if found is None:
                raise
            return found
        return external_id

    async def find(self, kind: IdKind, external_id: str) -> str | None:
        return await self._repo.core_id(self._key(kind), external_id)

    async def core(self, kind: IdKind, external_id: str) -> str:
        """The core id behind a LlamaCloud id of this project; 404 for an unknown one."""
        found = await self.find(kind, external_id)
        if found is None:
            raise NotFoundError(f"{kind.noun} {external_id} not found")
        return found
