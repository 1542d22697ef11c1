"""Core rows → LlamaCloud wire shapes (ids already translated by the caller)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from conveyor.api.llamacloud import schemas as w
from conveyor.domain.status import ItemStatus
from conveyor.store.models import Agent, Container, Element

FACE_KEY = "llamacloud"  # container.extra[FACE_KEY]: what only this face knows about a directory
UNIQUE_ID = "unique_id"  # element metadata kept by this face beside the user's own
EXTERNAL_FILE_ID = "external_file_id"
PURPOSE = "purpose"
RESERVED_METADATA = (UNIQUE_ID, EXTERNAL_FILE_ID, PURPOSE)

JOB_STATUS: dict[str, w.JobStatus] = {
    ItemStatus.PENDING: "PENDING", ItemStatus.RUNNING: "RUNNING", ItemStatus.SUCCEEDED: "COMPLETED",
    ItemStatus.FAILED: "FAILED", ItemStatus.CANCELLED: "CANCELLED"}


def directory(c: Container, directory_id: str, project_ref: str) -> w.Directory:
    face = c.extra.get(FACE_KEY) or {}
    return w.Directory(
        id=directory_id, name=c.name, project_id=project_ref, description=c.description or None,
        created_at=c.created_at, updated_at=c.updated_at, type=face.get("type", "user"),
        system_metadata=face.get("system_metadata"))


def user_metadata(e: Element) -> dict[str, Any]:
    return {k: v for k, v in (e.meta or {}).items() if k not in RESERVED_METADATA}


def unique_id(e: Element) -> str:
    value = (e.meta or {}).get(UNIQUE_ID)
    return str(value) if value is not None else e.name


def directory_file(e: Element, file_id: str, directory_id: str, project_ref: str,
                   download_url: w.PresignedURL | None = None) -> w.DirectoryFile:
    return w.DirectoryFile(
        id=file_id, directory_id=directory_id, display_name=e.name, project_id=project_ref,
        unique_id=unique_id(e), created_at=e.created_at, updated_at=e.updated_at, file_id=file_id,
        metadata=user_metadata(e), download_url=download_url)


def file(e: Element, file_id: str, project_ref: str, download_url: w.PresignedURL | None = None) -> w.File:
    meta = e.meta or {}
    external = meta.get(EXTERNAL_FILE_ID)
    return w.File(
        id=file_id, name=e.name, project_id=project_ref, download_url=download_url,
        external_file_id=str(external) if external is not None else None, file_type=file_type(e.name),
        last_modified_at=e.updated_at, purpose=str(meta[PURPOSE]) if PURPOSE in meta else None)


def file_type(name: str) -> str | None:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].lower() if suffix else None


def configuration(config_id: str, latest: Agent, first: Agent, parameters: dict[str, Any]) -> w.Configuration:
    """A saved configuration: its newest agent version, created when its first version was."""
    return w.Configuration(
        id=config_id, name=str(latest.spec.get("display_name") or latest.name), parameters=parameters,
        product_type=parameters["product_type"], version=latest.created_at.isoformat(),
        created_at=first.created_at, updated_at=latest.created_at)
