"""Wires settings into one :class:`Core`: database, blobs, repositories, services and the engine."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conveyor.blobs import LocalBlobStore
from conveyor.blobs.staging import PartStaging
from conveyor.domain.ids import Kind, new_id
from conveyor.engine.item_runner import ItemRunner
from conveyor.engine.local import LocalEngine
from conveyor.llm.config import providers_from
from conveyor.llm.gateway import LLMGateway
from conveyor.processors.base import Processor, ThrottleGauge
from conveyor.processors.extract import ExtractProcessor
from conveyor.processors.llm_agent import LLMProcessor
from conveyor.processors.parse.processor import WORKER_MODULES, ParseProcessor
from conveyor.processors.python import PythonProcessor
from conveyor.processors.registry import ProcessorRegistry, load_processor
from conveyor.processors.workers import WorkerPool
from conveyor.services.agents import AgentsService, ArtifactSchemasService
from conveyor.services.auth import AuthService
from conveyor.services.containers import ContainersService
from conveyor.services.downloads import DownloadsService
from conveyor.services.jobs import JobsService
from conveyor.services.recipes import RecipesService
from conveyor.services.runs import RunsService
from conveyor.services.scheduler import Scheduler
from conveyor.services.upload_sessions import UploadSessionsService
from conveyor.services.webhooks import WebhookDeliverer
from conveyor.settings import Settings
from conveyor.store.containers import ContainersRepo, ElementsRepo
from conveyor.store.database import Database
from conveyor.store.face_ids import FaceIdsRepo
from conveyor.store.fires import FiresRepo
from conveyor.store.jobs import JobsRepo
from conveyor.store.models import Agent, ArtifactSchema, Recipe
from conveyor.store.projects import ProjectsRepo
from conveyor.store.runs import ItemsRepo, RunsRepo
from conveyor.store.transfers import TransfersRepo
from conveyor.store.upload_sessions import UploadSessionsRepo
from conveyor.store.versioned import VersionedRepo
from conveyor.store.webhooks import WebhooksRepo

DELETE_CONTAINER = "delete_container"


@dataclass
class Core:
    settings: Settings
    db: Database
    auth: AuthService
    containers: ContainersService
    agents: AgentsService
    artifact_schemas: ArtifactSchemasService
    recipes: RecipesService
    runs: RunsService
    downloads: DownloadsService
    engine: LocalEngine
    scheduler: Scheduler
    parser: ParseProcessor
    llm: LLMGateway
    python: PythonProcessor
    face_ids: FaceIdsRepo
    upload_sessions: UploadSessionsService
    jobs: JobsService
    webhooks: WebhookDeliverer

    async def start_background(self) -> None:
        """The engine, the cron scheduler unless this process has it turned off, unfinished jobs, the
        upload-session sweep and the webhook deliverer."""
        await self.engine.start()
        if self.settings.scheduler:
            self.scheduler.start()
        await self.jobs.resume()
        self.upload_sessions.start_sweeper()
        self.webhooks.start()

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.upload_sessions.stop_sweeper()
        await self.webhooks.close()
        await self.jobs.close()
        await self.engine.stop()
        await self.downloads.close()
        self.parser.close()
        self.python.close()
        await self.llm.close()
        await self.db.close()


def build_core(settings: Settings, extra_processors: Sequence[Processor] = ()) -> Core:
    """Everything, built once from ``settings``; ``extra_processors`` add or replace agent types."""
    settings.ensure_dirs()
    db = Database(settings.resolved_database_url)
    blobs = LocalBlobStore(settings.resolved_blob_dir)
    containers_repo, elements = ContainersRepo(db), ElementsRepo(db)
    transfers, runs_repo, items = TransfersRepo(db), RunsRepo(db), ItemsRepo(db)
    recipes_repo = VersionedRepo(db, Recipe)
    containers = ContainersService(containers_repo, elements, transfers, blobs, settings.max_upload_bytes)
    parser = _parser(settings)
    python = PythonProcessor([Path.cwd()], WorkerPool(settings.python_workers, name="python"))
    gauge = ThrottleGauge()
    llm = LLMGateway(providers_from(settings), gauge)
    configured = [load_processor(spec) for spec in settings.processors]
    registry = ProcessorRegistry([parser, ExtractProcessor(parser, llm), LLMProcessor(parser, llm), python,
                                  *configured, *extra_processors])
    artifact_schemas = ArtifactSchemasService(VersionedRepo(db, ArtifactSchema))
    agents = AgentsService(VersionedRepo(db, Agent), artifact_schemas, registry.kinds)
    recipes = RecipesService(recipes_repo, agents, containers)
    runner = ItemRunner(blobs=blobs, processors=registry,
                        owner=f"{socket.gethostname()}:{os.getpid()}:{new_id(Kind.ITEM)}")
    engine = LocalEngine(runs=runs_repo, items=items, recipes=recipes_repo, runner=runner, settings=settings,
                         gauge=gauge)
    runs = RunsService(runs_repo, items, recipes, containers, engine)
    jobs = JobsService(JobsRepo(db))
    jobs.register(DELETE_CONTAINER, containers.delete_if_present)
    return Core(
        settings=settings, db=db, auth=AuthService(ProjectsRepo(db)), containers=containers, agents=agents,
        artifact_schemas=artifact_schemas, recipes=recipes, runs=runs,
        downloads=DownloadsService(containers, elements, transfers, blobs, settings.work_dir),
        engine=engine, scheduler=Scheduler(FiresRepo(db), ProjectsRepo(db), runs, runner.owner), parser=parser,
        python=python, llm=llm, face_ids=FaceIdsRepo(db), upload_sessions=_upload_sessions(settings, db, containers),
        jobs=jobs, webhooks=WebhookDeliverer(WebhooksRepo(db), max_attempts=settings.webhook_max_attempts))


def _parser(settings: Settings) -> ParseProcessor:
    workers = WorkerPool(settings.parse_workers, memory_limit_mb=settings.parse_memory_limit_mb,
                         preload=WORKER_MODULES, name="parse")
    return ParseProcessor(workers, time_limit=settings.parse_timeout_seconds,
                          item_timeout=settings.item_timeout_seconds)


def _upload_sessions(settings: Settings, db: Database, containers: ContainersService) -> UploadSessionsService:
    return UploadSessionsService(
        UploadSessionsRepo(db), PartStaging(settings.staging_dir), containers, part_size=settings.multipart_part_size,
        ttl_seconds=settings.multipart_session_ttl_seconds, max_file_bytes=settings.max_upload_bytes)
