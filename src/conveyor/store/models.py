"""Tables. Every row that a caller can see belongs to a project."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conveyor.store.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Blob(Base):
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class Container(Base):
    __tablename__ = "containers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="upload")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_ingest_at: Mapped[datetime | None]
    last_ingest_status: Mapped[str | None] = mapped_column(String(20))


class Element(Base):
    __tablename__ = "elements"
    __table_args__ = (
        UniqueConstraint("container_id", "source_run_id", "source_element_id", "artifact_name",
                         name="uq_elements_output"),
        Index("ix_elements_container_name", "container_id", "name"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    container_id: Mapped[str] = mapped_column(ForeignKey("containers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    source_run_id: Mapped[str | None] = mapped_column(String(40))
    source_element_id: Mapped[str | None] = mapped_column(String(40), index=True)
    artifact_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Agent(Base):
    """One immutable version of an agent; versions of one agent share ``lineage_id``."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("lineage_id", "version", name="uq_agents_version"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    lineage_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    parent_version: Mapped[int | None] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]
    published_at: Mapped[datetime | None]
    commit_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class ArtifactSchema(Base):
    """One immutable version of an artifact schema; versions share ``lineage_id``."""

    __tablename__ = "artifact_schemas"
    __table_args__ = (UniqueConstraint("lineage_id", "version", name="uq_artifact_schemas_version"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    lineage_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    parent_version: Mapped[int | None] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Recipe(Base):
    """One immutable version of a batch definition; versions share ``lineage_id``."""

    __tablename__ = "recipes"
    __table_args__ = (UniqueConstraint("lineage_id", "version", name="uq_recipes_version"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    lineage_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer)
    parent_version: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str] = mapped_column(String(40))
    agent_urn: Mapped[str] = mapped_column(String(300))
    agent_spec: Mapped[dict[str, Any]]
    input_container_id: Mapped[str] = mapped_column(String(40))
    filters: Mapped[dict[str, Any] | None]
    output_container_id: Mapped[str | None] = mapped_column(String(40))
    user_message: Mapped[str | None] = mapped_column(Text)
    concurrency: Mapped[int] = mapped_column(Integer)
    retry_limit: Mapped[int] = mapped_column(Integer)
    recurrence_cron: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status", "status"),
        UniqueConstraint("project_id", "idempotency_key", name="uq_runs_idempotency_key"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    recipe_id: Mapped[str] = mapped_column(ForeignKey("recipes.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    input_container_id: Mapped[str] = mapped_column(String(40), index=True)
    output_container_id: Mapped[str | None] = mapped_column(String(40))
    input_overrides: Mapped[dict[str, Any] | None]
    batch_spec: Mapped[dict[str, Any] | None]
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    # item counts per status, kept in the same transactions that move items, so reads are O(1)
    pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    running: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    succeeded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Item(Base):
    """One element inside one run."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("run_id", "element_id", name="uq_items_run_element"),
        Index("ix_items_finished", "run_id", "finished_at", "id"),
        Index("ix_items_claim", "run_id", "status", "id"),
        Index("ix_items_due", "run_id", "status", "not_before"),
        Index("ix_items_recovery", "status", "lease_expires_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(40))
    element_name: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(60))
    lease_expires_at: Mapped[datetime | None]
    lease_losses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    llm_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[list[Any] | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    container_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    files: Mapped[list[Any]] = mapped_column(default=list)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Download(Base):
    __tablename__ = "downloads"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    container_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Fire(Base):
    """One tick of a recipe's cron schedule; the unique key makes each tick start one run, whoever fires."""

    __tablename__ = "fires"
    __table_args__ = (UniqueConstraint("lineage_id", "fire_time", name="uq_fires_tick"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lineage_id: Mapped[str] = mapped_column(String(40))
    fire_time: Mapped[datetime]
    recipe_id: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str | None] = mapped_column(String(40))
    fired_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class FaceId(Base):
    """An id of a non-Meibel face for a core object: (project, face, kind, external id) ↔ core id.

    Faces with integer ids (AI Hub batches) take the row's own ``id`` as theirs: it only ever grows
    (``sqlite_autoincrement`` on SQLite, an identity on PostgreSQL), so a deleted id is never handed out
    again. Faces with their own string ids (LlamaCloud ``dir-…``) store them as given.
    """

    __tablename__ = "face_ids"
    __table_args__ = (
        UniqueConstraint("project_id", "face", "kind", "external_id", name="uq_face_ids_external"),
        UniqueConstraint("project_id", "face", "kind", "core_id", name="uq_face_ids_core"),
        Index("ix_face_ids_core_id", "core_id"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    face: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(100))
    core_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class UploadSession(Base):
    """A multipart upload of one file into a container; its parts wait on disk until commit."""

    __tablename__ = "upload_sessions"
    __table_args__ = (Index("ix_upload_sessions_expiry", "status", "expires_at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    container_id: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(1000))
    file_size: Mapped[int] = mapped_column(BigInteger)
    part_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class UploadPart(Base):
    """One received part of a session; re-sending a part number replaces the row and its file."""

    __tablename__ = "upload_parts"
    session_id: Mapped[str] = mapped_column(ForeignKey("upload_sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    part_num: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[str] = mapped_column(String(40), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Job(Base):
    """A piece of work done in the background for a caller who polls it (deleting a container …)."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class WebhookSubscription(Base):
    """Who to tell about a subject's (a run's) events, which events, and in which face's format.

    ``events`` lists the events wanted; NULL means the subject's end only (``run.completed``,
    ``run.failed``, ``run.cancelled``).
    """

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secret: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(20))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    events: Mapped[list[Any] | None]
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """The outbox: one event to deliver, written in the transaction that made the event happen."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(60))
    url: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secret: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(20))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
