"""Stores a processor's artifacts as blobs and describes them as output rows.

The rows become elements of the run's output container in the same transaction that records the item's
result (``ItemsRepo.apply``), keyed by (output container, run, input element, artifact name): a re-run of
an item replaces its outputs, never adds a second set, and a failed item keeps none.
"""

from __future__ import annotations

import asyncio

from conveyor.blobs import BlobStore, StoredBlob
from conveyor.processors.base import Artifact
from conveyor.store.runs import OutputRow


class ArtifactStore:
    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def store(self, input_name: str, element_id: str, run_id: str,
                    artifacts: list[Artifact]) -> tuple[OutputRow, ...]:
        rows = []
        for artifact in artifacts:
            blob = await self._put(artifact)
            rows.append(OutputRow(
                name=artifact.name, type=artifact.type.value, filename=artifact.output_name(input_name),
                media_type=artifact.type.media_type, size=blob.size, sha256=blob.sha256,
                metadata={**artifact.metadata, "source_element_id": element_id, "run_id": run_id,
                          "artifact": artifact.name}))
        return tuple(rows)

    async def _put(self, artifact: Artifact) -> StoredBlob:
        if artifact.data is not None:
            return await self._blobs.put_bytes(artifact.data)
        assert artifact.path is not None
        writer = self._blobs.writer()
        try:
            with artifact.path.open("rb") as f:
                while chunk := await asyncio.to_thread(f.read, 1 << 20):
                    await writer.write(chunk)
        except BaseException:  # a missing or unreadable file, or cancellation: no temp file left open
            await writer.abort()
            raise
        return await writer.commit()
