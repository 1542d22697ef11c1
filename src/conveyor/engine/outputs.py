"""Writes a processor's artifacts as elements of the run's output container.

The element key is (output container, run, input element, artifact name), so a re-run of the same item
replaces its outputs instead of adding a second set.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conveyor.blobs import BlobStore, StoredBlob
from conveyor.domain.ids import Kind, new_id
from conveyor.processors.base import Artifact
from conveyor.store.containers import ElementsRepo
from conveyor.store.models import Element, Item, Run
from conveyor.store.types import utcnow


class OutputWriter:
    def __init__(self, blobs: BlobStore, elements: ElementsRepo) -> None:
        self._blobs = blobs
        self._elements = elements

    async def write(self, run: Run, item: Item, artifacts: list[Artifact]) -> list[dict[str, Any]]:
        """Write this attempt's artifacts and drop any an earlier attempt wrote that this one did not."""
        assert run.output_container_id is not None
        outputs = [await self._write_one(run, run.output_container_id, item, a) for a in artifacts]
        await self._elements.delete_outputs(run.output_container_id, run.id, item.element_id,
                                            keep=[a.name for a in artifacts])
        return outputs

    async def discard(self, run: Run, item: Item) -> None:
        """A failed item leaves no outputs behind."""
        if run.output_container_id is not None:
            await self._elements.delete_outputs(run.output_container_id, run.id, item.element_id)

    async def _write_one(self, run: Run, container_id: str, item: Item, artifact: Artifact) -> dict[str, Any]:
        blob = await self._store(artifact)
        now = utcnow()
        element = await self._elements.upsert_output(Element(
            id=new_id(Kind.ELEMENT), project_id=run.project_id, container_id=container_id,
            name=artifact.output_name(item.element_name), description=None,
            media_type=artifact.type.media_type, size=blob.size, sha256=blob.sha256,
            meta={**artifact.metadata, "source_element_id": item.element_id, "run_id": run.id,
                  "artifact": artifact.name},
            source_run_id=run.id, source_element_id=item.element_id, artifact_name=artifact.name,
            created_at=now, updated_at=now), blob.size)
        return {"name": artifact.name, "type": artifact.type.value, "data_element_id": element.id,
                "datasource_id": container_id, "filename": element.name,
                "media_type": element.media_type, "size_bytes": blob.size, "sha256": blob.sha256}

    async def _store(self, artifact: Artifact) -> StoredBlob:
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
