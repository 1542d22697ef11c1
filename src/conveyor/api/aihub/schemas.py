"""AI Hub wire shapes (``instabase-aihub==0.14.0`` models), for requests and responses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_NAME = 255


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


# batches -----------------------------------------------------------------------------------------
class CreateBatchRequest(Wire):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    workspace: str | None = Field(default=None, max_length=MAX_NAME)


class Batch(Wire):
    id: int


class BatchInfo(Wire):
    id: int
    name: str
    workspace: str | None = None
    mount_point: str | None = None
    repo_owner: str | None = None
    batch_owner: str | None = None
    created_at_ms: int | None = None
    updated_at_ms: int | None = None
    path_suffix: str | None = None


class ListBatchesResponse(Wire):
    batches: list[BatchInfo]


class BatchDeletionJobResponse(Wire):
    job_id: str


class JobStatusResponse(Wire):
    state: Literal["COMPLETE", "FAILED", "CANCELLED", "RUNNING", "PENDING"]
    message: str | None = None


class FileMetadata(Wire):
    node_type: str = "file"
    size: int
    modified_timestamp: int


class FilePerms(Wire):
    can_read: bool = True
    can_write: bool = True
    can_delete: bool = True


class FileNode(Wire):
    full_path: str
    metadata: FileMetadata
    perms: FilePerms = Field(default_factory=FilePerms)
    name: str


class ListBatchFilesResponse(Wire):
    nodes: list[FileNode]
    next_page_token: str | None = None
    has_more: bool


# multipart uploads -------------------------------------------------------------------------------
class CreateMultipartUploadSessionRequest(Wire):
    batch_id: int
    filename: str = Field(min_length=1, max_length=MAX_NAME)
    file_size: int = Field(ge=1, description="Bytes; an integer or a string of digits.")


class MultipartUploadSessionResponse(Wire):
    session_id: str
    part_size: int


class MultipartUploadPartResponse(Wire):
    part_id: str
    part_num: int


class CommitPart(Wire):
    part_num: int
    part_id: str = Field(min_length=1, max_length=100)


class CommitMultipartUploadSessionRequest(Wire):
    action: Literal["commit", "abort"]
    parts: list[CommitPart] | None = Field(default=None, max_length=100_000)


# app runs ----------------------------------------------------------------------------------------
class WebhookConfig(Wire):
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)
    headers: dict[str, str] | None = None
    secret: str | None = Field(default=None, min_length=1, max_length=500,
                               description="Conveyor: sign each delivery's body with HMAC-SHA256 under this "
                                           "secret (X-Conveyor-Signature: sha256=<hex>).")


class RunAppSettings(Wire):
    keys: dict[str, Any] | None = None
    runtime_config: dict[str, Any] | None = None
    webhook_config: WebhookConfig | None = None


class RunAppRequest(Wire):
    app_name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    app_id: str | None = Field(default=None, min_length=1, max_length=100)
    owner: str | None = None
    batch_id: int | None = None
    input_dir: str | None = None
    version: str | None = None
    output_workspace: str | None = None
    output_dir: str | None = None
    settings: RunAppSettings | None = None


RunStatusName = Literal["CANCELLED", "COMPLETE", "FAILED", "PAUSED", "RUNNING", "STOPPED_AT_CHECKPOINT"]


class Run(Wire):
    id: str
    status: RunStatusName
    start_timestamp: int | None = None
    finish_timestamp: int | None = None
    msg: str | None = None


class ListRunsResponse(Wire):
    runs: list[Run]


class DeleteRunResponse(Wire):
    delete_input_dir_job_id: str | None = None
    delete_output_dir_job_id: str | None = None
    delete_log_dir_job_id: str | None = None


class DocumentField(Wire):
    field_name: str
    value: str
    type: str
    error_msg: str | None = None


class Document(Wire):
    fields: list[DocumentField]
    class_name: str | None = None
    page_numbers: list[int] | None = None
    review_completed: bool = False


class FileWithDocuments(Wire):
    original_file_name: str
    input_file_path: str
    documents: list[Document]


class ResultsResponse(Wire):
    id: str
    status: RunStatusName
    message: str | None = None
    start_timestamp: int | None = None
    finish_timestamp: int | None = None
    batch_id: str | None = None
    files: list[FileWithDocuments]
    review_completed: bool = False
    has_more: bool
