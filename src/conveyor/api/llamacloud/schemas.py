"""LlamaCloud wire shapes, as the ``llama-cloud==2.19.0`` SDK sends and reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

JobType = Literal["parse_v2", "extract_v2"]
BatchStatus = Literal["PENDING", "THROTTLED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
JobStatus = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
ProductType = Literal["classify_v2", "extract_v2", "parse_v2", "split_v1", "spreadsheet_v1", "unknown"]
MetadataValue = str | int | float | bool | list[str] | None
Name = Field(min_length=1, max_length=500)
T = TypeVar("T")


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Page(Wire, Generic[T]):
    """The cursor page every list answers with (the SDK's ``PaginatedCursor``)."""

    items: list[T]
    next_page_token: str | None = None
    total_size: int | None = None


class PresignedURL(Wire):
    url: str
    expires_at: datetime
    form_fields: dict[str, str] | None = None


# directories ---------------------------------------------------------------------------------------
class DirectoryCreate(Wire):
    name: str = Name
    description: str | None = None
    connector_subscription_id: str | None = None
    system_metadata: dict[str, Any] | None = None
    type: Literal["ephemeral", "user"] = "user"


class DirectoryUpdate(Wire):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None


class Directory(Wire):
    id: str
    name: str
    project_id: str
    connector_subscription_id: str | None = None
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    description: str | None = None
    expires_at: datetime | None = None
    system_metadata: dict[str, Any] | None = None
    type: Literal["ephemeral", "index", "user"] | None = None
    updated_at: datetime | None = None


# directory files and files ------------------------------------------------------------------------
class DirectoryFileAdd(Wire):
    file_id: str = Field(min_length=1)
    display_name: str | None = Field(default=None, min_length=1, max_length=1000)
    metadata: dict[str, MetadataValue] | None = None
    unique_id: str | None = Field(default=None, min_length=1, max_length=1000)


class DirectoryFileUpdate(Wire):
    display_name: str | None = Field(default=None, min_length=1, max_length=1000)
    metadata: dict[str, MetadataValue] | None = None
    target_directory_id: str | None = None
    unique_id: str | None = Field(default=None, min_length=1, max_length=1000)


class DirectoryFile(Wire):
    id: str
    directory_id: str
    display_name: str
    project_id: str
    unique_id: str
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    download_url: PresignedURL | None = None
    file_id: str | None = None
    metadata: dict[str, Any] | None = None  # any JSON: the Meibel face may have set nested values
    updated_at: datetime | None = None


class File(Wire):
    id: str
    name: str
    project_id: str
    download_url: PresignedURL | None = None
    expires_at: datetime | None = None
    external_file_id: str | None = None
    file_type: str | None = None
    last_modified_at: datetime | None = None
    purpose: str | None = None


# configurations -------------------------------------------------------------------------------------
class ParseParameters(Wire):
    """Parse v2 parameters; the ones Conveyor does not apply are kept as sent (``extra="allow"``)."""

    model_config = ConfigDict(extra="allow")
    product_type: Literal["parse_v2"]
    tier: Literal["agentic", "agentic_plus", "cost_effective", "fast"]
    version: str = Field(min_length=1)


class ExtractParameters(Wire):
    model_config = ConfigDict(extra="allow")
    product_type: Literal["extract_v2"]
    data_schema: dict[str, Any]
    tier: Literal["agentic", "agentic_plus", "cost_effective", "turbo"] | None = None
    parse_tier: Literal["agentic", "agentic_plus", "cost_effective", "fast"] | None = None
    parse_config_id: str | None = None
    system_prompt: str | None = None


Parameters = ParseParameters | ExtractParameters
ParametersField = Field(discriminator="product_type")


class ConfigurationCreate(Wire):
    name: str = Name
    parameters: Parameters = ParametersField


class ConfigurationUpdate(Wire):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    parameters: Parameters | None = Field(default=None, discriminator="product_type")


class Configuration(Wire):
    id: str
    name: str
    parameters: dict[str, Any]
    product_type: ProductType
    version: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


# webhooks -------------------------------------------------------------------------------------------
class WebhookConfiguration(Wire):
    """One endpoint to tell about a batch; only the ``batch.*`` events are emitted here."""

    webhook_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    webhook_events: list[str] | None = None
    webhook_headers: dict[str, str] | None = None
    webhook_output_format: str | None = None
    webhook_signing_secret: str | None = Field(default=None, max_length=500)


# batches --------------------------------------------------------------------------------------------
class BatchJob(Wire):
    configuration_id: str = Field(min_length=1, max_length=200)
    type: JobType


class BatchConfig(Wire):
    job: BatchJob


class BatchCreate(Wire):
    config: BatchConfig
    source_directory_id: str = Field(min_length=1, max_length=200)
    webhook_configuration_ids: list[str] | None = None
    webhook_configurations: list[WebhookConfiguration] | None = None


class JobReference(Wire):
    id: str
    type: JobType


class BatchResult(Wire):
    source_directory_file_id: str
    error_message: str | None = None
    job_reference: JobReference | None = None


class Batch(Wire):
    id: str
    config: BatchConfig
    project_id: str
    source_directory_id: str
    status: BatchStatus
    created_at: datetime | None = None
    results: list[BatchResult] | None = None
    updated_at: datetime | None = None


# parse jobs -----------------------------------------------------------------------------------------
class ParseJob(Wire):
    id: str
    project_id: str
    status: JobStatus
    created_at: datetime | None = None
    error_message: str | None = None
    name: str | None = None
    tier: str | None = None
    updated_at: datetime | None = None
    user_metadata: dict[str, str] | None = None


class TextPage(Wire):
    page_number: int
    text: str


class PageTexts(Wire):
    pages: list[TextPage]


class MarkdownPage(Wire):
    page_number: int
    markdown: str
    success: Literal[True] = True


class PageMarkdowns(Wire):
    pages: list[MarkdownPage]


class ItemsPage(Wire):
    page_number: int
    page_width: float
    page_height: float
    items: list[dict[str, Any]]
    success: Literal[True] = True


class PageItems(Wire):
    pages: list[ItemsPage]


class PageMetadata(Wire):
    page_number: int


class ParseMetadata(Wire):
    pages: list[PageMetadata]


class ResultContent(Wire):
    size_bytes: int
    exists: bool | None = None
    presigned_url: str | None = None


class ParseResult(Wire):
    job: ParseJob
    text: PageTexts | None = None
    text_full: str | None = None
    markdown: PageMarkdowns | None = None
    markdown_full: str | None = None
    items: PageItems | None = None
    metadata: ParseMetadata | None = None
    job_metadata: dict[str, Any] | None = None
    result_content_metadata: dict[str, ResultContent] | None = None


# extract jobs ---------------------------------------------------------------------------------------
class ExtractJob(Wire):
    id: str
    created_at: datetime
    file_input: str
    project_id: str
    status: JobStatus
    updated_at: datetime
    configuration: dict[str, Any] | None = None
    configuration_id: str | None = None
    error_message: str | None = None
    extract_metadata: dict[str, Any] | None = None
    extract_result: Any = None  # what the data schema describes (an object, mostly)
    metadata: dict[str, Any] | None = None
