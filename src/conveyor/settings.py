"""Server settings: one pydantic-settings object (``CONVEYOR_*``), built once and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable about a Conveyor process."""

    model_config = SettingsConfigDict(env_prefix="CONVEYOR_", extra="ignore")

    home: Path = Field(default=Path(".conveyor"), description="Data directory (database, blobs, exports).")
    host: str = Field(default="127.0.0.1", description="Address `conveyor serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `conveyor serve` listens on.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in WAL mode at HOME/conveyor.db.")
    blob_dir: Path | None = Field(default=None, description="Local blob directory; default HOME/blobs.")
    api_key: str | None = Field(
        default=None, description="Pin this API key for the default project (its hash is stored).")
    max_workers: int = Field(default=32, ge=1, description="Items in flight across all runs.")
    parse_workers: int = Field(
        default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), ge=1,
        description="Worker processes for parsing untrusted files.")
    parse_memory_limit_mb: int = Field(
        default=2048, ge=0,
        description="Address-space limit of each parse worker (MB; 0 = none); a file needing more fails.")
    parse_timeout_seconds: float = Field(
        default=120.0, gt=0,
        description="Time a parse worker may spend on one file; an agent's `timeout_seconds` replaces it.")
    python_workers: int = Field(
        default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), ge=1,
        description='Worker processes for python agents with `isolation: "process"`.')
    max_upload_bytes: int = Field(
        default=10 * 1024**3, ge=1, description="Largest accepted upload per file (bytes); larger is 413.")
    max_request_bytes: int = Field(
        default=16 * 1024**2, ge=1024, description="Largest JSON or form body (uploads excepted); larger is 413.")
    inline_items_limit: int = Field(
        default=10_000, ge=0, description="Terminal runs with at most this many items inline `items`.")
    item_timeout_seconds: float = Field(
        default=600.0, gt=0, description="Default per-item time limit; agents may set their own.")
    lease_seconds: float = Field(default=60.0, gt=0, description="Item lease; heartbeats extend it.")
    processors: list[str] = Field(
        default_factory=list,
        description='Extra processors as "package.module:Class" (JSON list); each class\'s `kind` becomes an '
                    "agent type.")
    llm_base_url: str = Field(
        default="http://127.0.0.1:8765/v1",
        description="OpenAI-compatible API of the default LLM provider (default: `conveyor llm serve`).")
    llm_api_key: str | None = Field(default=None, description="Bearer key for the default LLM provider.")
    llm_model: str = Field(default="gemma3-270m", description="Model for agents that name none.")
    llm_structured_output: Literal["auto", "json_schema", "json_object", "prompt"] = Field(
        default="auto", description="How the default provider is asked for schema-valid JSON.")
    llm_requests_per_minute: int = Field(
        default=0, ge=0, description="Request budget of the default provider, shared by all runs (0 = none).")
    llm_tokens_per_minute: int = Field(
        default=0, ge=0, description="Token budget of the default provider, shared by all runs (0 = none).")
    llm_timeout_seconds: float = Field(default=120.0, gt=0, description="Time limit of one LLM request.")
    llm_providers: list[dict[str, Any]] = Field(
        default_factory=list,
        description="More providers as a JSON list of {name, base_url, api_key, models, default_model, "
                    "structured_output, requests_per_minute, tokens_per_minute}.")
    multipart_part_size: int = Field(
        default=16 * 1024**2, ge=1, description="Part size handed out by multipart upload sessions (bytes).")
    multipart_session_ttl_seconds: float = Field(
        default=24 * 3600.0, gt=0, description="An uncommitted multipart upload session (and its parts) is "
                                               "swept this long after it started.")
    webhook_max_attempts: int = Field(
        default=10, ge=1, description="Attempts per webhook delivery (exponential backoff between them).")
    signing_key: str | None = Field(
        default=None, description="Key that signs presigned download URLs; default: random per process, so "
                                  "URLs stop working at a restart (set it when replicas share a database).")
    scheduler: bool = Field(default=True, description="Fire recurrence_cron definitions from this process.")
    log_level: str = Field(default="info", description="uvicorn/conveyor log level.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home / 'conveyor.db').resolve()}"

    @property
    def resolved_blob_dir(self) -> Path:
        return (self.blob_dir or self.home / "blobs").resolve()

    @property
    def staging_dir(self) -> Path:
        """Multipart upload parts waiting for their commit (beside the blobs they become)."""
        return self.resolved_blob_dir / "staging"

    @property
    def work_dir(self) -> Path:
        """Scratch space for exports and in-flight uploads."""
        return (self.home / "work").resolve()

    def ensure_dirs(self) -> None:
        for path in (self.home, self.resolved_blob_dir, self.work_dir):
            path.mkdir(parents=True, exist_ok=True)
