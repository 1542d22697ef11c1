"""Meibel v2 wire shapes, as the ``meibel==2.0.7`` SDK sends and reads them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from conveyor.domain.rules import CONCURRENCY_RANGE, RETRY_LIMIT_RANGE


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


Concurrency = Field(default=None, ge=CONCURRENCY_RANGE[0], le=CONCURRENCY_RANGE[1])
RetryLimit = Field(default=None, ge=RETRY_LIMIT_RANGE[0], le=RETRY_LIMIT_RANGE[1])


# datasources ---------------------------------------------------------------------------------------
class MetadataField(Wire):
    name: str
    type: Literal["string", "integer", "float", "boolean", "datetime", "uuid", "geo", "list[string]"]
    description: str
    index: bool | None = None


class MetadataConfigRequest(Wire):
    type: Literal["catalog", "custom"]
    model_id: str | None = None
    fields: list[MetadataField] | None = None


class ConnectorConfig(Wire):
    type: Literal["database", "cloud_storage", "web_crawl"]
    database: dict[str, Any] | None = None
    cloud_storage: dict[str, Any] | None = None
    web_crawl: dict[str, Any] | None = None


class CreateDatasourceRequest(Wire):
    name: str = Field(min_length=1, max_length=500)
    description: str | None = None
    connector: ConnectorConfig | None = None
    metadata_config: MetadataConfigRequest | None = None


class UpdateDatasourceRequest(Wire):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    connector: ConnectorConfig | None = None
    metadata_config: MetadataConfigRequest | None = None
    tables: list[dict[str, Any]] | None = None


class ConnectorSummary(Wire):
    type: Literal["database", "cloud_storage", "web_crawl"]
    cloud_storage: dict[str, Any] | None = None
    web_crawl: dict[str, Any] | None = None


class FilesSummary(Wire):
    total: int
    deleted: int | None = None


class MetadataConfigResponse(Wire):
    type: Literal["catalog", "custom", "default"]
    model_id: str | None = None
    fields: list[MetadataField] = Field(default_factory=list)


class DatasourceResponse(Wire):
    id: str
    name: str
    description: str
    connector: ConnectorSummary
    created_at: str
    updated_at: str
    last_sync_at: str | None = None
    last_sync_status: str | None = None
    total_ingested_files: int | None = None
    metadata_config: MetadataConfigResponse | None = None
    files: FilesSummary | None = None
    ingest_counts: dict[str, Any] | None = None
    tables: list[dict[str, Any]] | None = None


class DatasourceListResponse(Wire):
    datasources: list[DatasourceResponse]


class DeleteDatasourceResponse(Wire):
    id: str


# data elements -------------------------------------------------------------------------------------
class DataElementResponse(Wire):
    id: str
    datasource_id: str
    name: str
    description: str | None = None
    media_type: str | None = None
    metadata: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    size: int | None = None
    sha256: str | None = None


class DataElementListResponse(Wire):
    items: list[DataElementResponse]
    next_cursor: str | None = None
    has_next: bool | None = None


class DataElementSearchRequest(Wire):
    regex_filter: str | None = None
    media_type_filters: list[str] | None = None


class UpdateDataElementRequest(Wire):
    name: str | None = Field(default=None, min_length=1, max_length=1000)
    description: str | None = None
    metadata: dict[str, Any] | None = None


# content and uploads -------------------------------------------------------------------------------
class ContentItem(Wire):
    name: str
    path: str
    type: str | None = None
    size: int | None = None
    media_type: str | None = None
    last_modified: str | None = None
    etag: str | None = None


class ListContentResponse(Wire):
    items: list[ContentItem]
    continuation_token: str | None = None
    next_cursor: str | None = Field(default=None, description="Same as continuation_token.")


class UploadContentResponse(Wire):
    success: bool
    message: str
    datasource_id: str
    upload_id: str
    sse_url: str
    estimated_files: int | None = None
    estimated_size: int | None = None


class FileUploadSyncResponse(Wire):
    datasource_id: str
    items: list[ContentItem]
    continuation_token: str | None = None
    ingest_url: str | None = None


class TriggerIngestResponse(Wire):
    message: str
    datasource_id: str


class IngestMethodSummary(Wire):
    method: str
    total_files: int | None = None
    processed_files: int | None = None
    adds: int | None = None
    updates: int | None = None
    errors: int | None = None
    warnings: int | None = None


class IngestStatusResponse(Wire):
    datasource_id: str
    status: Literal["not_started", "running", "completed", "failed", "canceled", "terminated",
                    "timed_out", "unknown"]
    started_at: str | None = None
    completed_at: str | None = None
    methods: list[IngestMethodSummary] | None = None


class DownloadJobRequest(Wire):
    content: Literal["files", "parsed_content", "files_and_parsed_content"] | None = None
    data_element_ids: list[str] | None = None


class DownloadJobResponse(Wire):
    job_id: str
    status: str
    status_url: str


# agents and artifact schemas -----------------------------------------------------------------------
class ArtifactType(StrEnum):
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    YAML = "yaml"
    TEXT = "text"
    HTML = "html"
    PDF = "pdf"


class StorageStrategy(StrEnum):
    INLINE = "inline"
    GCS = "gcs"
    AUTO = "auto"


class AgentFields(Wire):
    """Fields shared by agent create and update."""

    instructions: str | None = None
    type: str | None = None
    description: str | None = None
    llm_model: str | None = None
    fallback_models: list[str] | None = None
    datasources: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    artifacts: list[str] | None = None
    confidence_configs: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    tags: list[str] | None = None
    icon: str | None = None
    execution_policy: dict[str, Any] | None = None
    execution_policy_ids: list[str] | None = None
    additional_properties: dict[str, Any] | None = None


class CreateAgentRequest(AgentFields):
    display_name: str = Field(min_length=1, max_length=200)
    instructions: str = ""


class UpdateAgentRequest(AgentFields):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)


class PublishAgentRequest(Wire):
    commit_message: str


class CreateArtifactSchemaRequest(Wire):
    display_name: str = Field(min_length=1, max_length=200)
    type: ArtifactType = ArtifactType.JSON
    description: str | None = None
    required: bool | None = None
    schema_def: dict[str, Any]
    max_size_bytes: int | None = Field(default=None, ge=1)
    storage_strategy: StorageStrategy | None = None
    additional_properties: dict[str, Any] | None = None


class UpdateArtifactSchemaRequest(Wire):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    type: ArtifactType | None = None
    description: str | None = None
    required: bool | None = None
    schema_def: dict[str, Any] | None = None
    max_size_bytes: int | None = Field(default=None, ge=1)
    storage_strategy: StorageStrategy | None = None


# batch definitions and executions ------------------------------------------------------------------
class BatchDefinitionFilters(Wire):
    regex: str | None = None
    media_types: list[str] | None = None
    element_ids: list[str] | None = None


class CreateBatchDefinitionRequest(Wire):
    name: str = Field(min_length=1, max_length=500)
    agent_id: str
    input_datasource_id: str
    filters: BatchDefinitionFilters | None = None
    output_datasource_id: str | None = None
    user_message: str | None = None
    concurrency: int | None = Concurrency
    retry_limit: int | None = RetryLimit
    recurrence_cron: str | None = None
    description: str | None = None
    execution_policy: dict[str, Any] | None = None
    execution_policy_ids: list[str] | None = None


class UpdateBatchDefinitionRequest(Wire):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    agent_id: str | None = None
    input_datasource_id: str | None = None
    filters: BatchDefinitionFilters | None = None
    output_datasource_id: str | None = None
    user_message: str | None = None
    concurrency: int | None = Concurrency
    retry_limit: int | None = RetryLimit
    recurrence_cron: str | None = None
    description: str | None = None
    execution_policy: dict[str, Any] | None = None
    execution_policy_ids: list[str] | None = None


class BatchDefinitionResponse(Wire):
    id: str
    customer_id: str
    project_id: str
    name: str
    version: str
    parent_version: str | None
    catalog_urn: str
    agent_urn: str
    agent_spec_json: dict[str, Any]
    input_datasource_id: str
    filters: dict[str, Any] | None = None
    output_datasource_id: str | None = None
    user_message: str | None = None
    concurrency: int
    retry_limit: int
    recurrence_cron: str | None = None
    description: str | None = None
    created_at: datetime
    created_by: str
    deleted_at: datetime | None = None


class PaginationMeta(Wire):
    total: int
    offset: int
    limit: int | None = None


class BatchDefinitionList(Wire):
    data: list[BatchDefinitionResponse]
    pagination: PaginationMeta


class LegacyInputFilters(Wire):
    regex: str | None = None
    media_types: list[str] | None = None
    element_ids: list[str] | None = None
    additional_properties: dict[str, Any] | None = None


class LegacyInput(Wire):
    datasource_id: str
    filters: LegacyInputFilters | None = None


class LegacyOutput(Wire):
    datasource_id: str | None = None


class LegacyExecution(Wire):
    concurrency: int | None = Concurrency
    retry_limit: int | None = RetryLimit


class LegacyBatchSpec(Wire):
    name: str = Field(min_length=1, max_length=500)
    version: str | None = None
    agent: str
    user_message: str | None = None
    input: LegacyInput
    output: LegacyOutput | None = None
    execution: LegacyExecution | None = None
    additional_properties: dict[str, Any] | None = None


class CreateBatchExecutionRequest(Wire):
    batch_spec_json: LegacyBatchSpec


class UpdateBatchExecutionRequest(Wire):
    status: str | None = None
    end_time: datetime | None = None
    total_items: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    output_datasource_id: str | None = None
    items: list[dict[str, Any]] | None = None
    error: str | None = None
    additional_properties: dict[str, Any] | None = None


class BatchItemResult(Wire):
    input_data_element_id: str
    filename: str
    status: str
    error: str | None = None
    output_artifacts: list[dict[str, Any] | None] | None = None
    attempts: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    usage: dict[str, int] | None = None  # LLM requests and tokens over all attempts


class BatchItemList(Wire):
    items: list[BatchItemResult]
    next_cursor: str | None = None
    has_next: bool = False


class BatchExecutionResponse(Wire):
    id: str
    batch_definition_id: str
    customer_id: str
    project_id: str
    agent_urn: str | None = None
    batch_spec_json: dict[str, Any] | None = None
    agent_spec_json: dict[str, Any] | None = None
    input_datasource_id: str | None = None
    output_datasource_id: str | None = None
    input_overrides: dict[str, Any] | None = None
    total_items: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    cancelled: int | None = None
    pending: int | None = None
    running: int | None = None
    start_time: datetime
    end_time: datetime | None = None
    status: str
    error: str | None = None
    usage: dict[str, int] | None = None  # LLM tokens spent by the run
    items: list[BatchItemResult] | None = None


class BatchExecutionList(Wire):
    data: list[BatchExecutionResponse]
    pagination: PaginationMeta


class ExecuteBatchDefinitionResponse(Wire):
    execution_id: str
    workflow_id: str
