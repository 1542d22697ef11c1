"""Content-addressed object storage behind a small interface."""

from conveyor.blobs.base import BlobStore, BlobWriter, StoredBlob
from conveyor.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "BlobWriter", "LocalBlobStore", "StoredBlob"]
