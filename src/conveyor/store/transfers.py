"""Upload and download job records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from conveyor.store.database import Database
from conveyor.store.models import Download, Upload


class TransfersRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_upload(self, upload: Upload) -> Upload:
        async with self._db.write() as s:
            s.add(upload)
        return upload

    async def save_upload(self, upload_id: str, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(update(Upload).where(Upload.id == upload_id).values(**values))

    async def get_upload(self, upload_id: str) -> Upload | None:
        async with self._db.read() as s:
            return await s.get(Upload, upload_id)

    async def add_download(self, download: Download) -> Download:
        async with self._db.write() as s:
            s.add(download)
        return download

    async def save_download(self, download_id: str, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(update(Download).where(Download.id == download_id).values(**values))

    async def get_download(self, download_id: str) -> Download | None:
        async with self._db.read() as s:
            return await s.get(Download, download_id)
