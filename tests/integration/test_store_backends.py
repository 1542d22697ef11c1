"""The store on both backends (SQLite in WAL mode and a real PostgreSQL server), same code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import ElementFilter
from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.domain.usage import Usage
from conveyor.store.containers import ContainersRepo, ElementsRepo
from conveyor.store.database import Database
from conveyor.store.models import Agent, Container, Element, Project, Recipe, Run
from conveyor.store.projects import ProjectsRepo
from conveyor.store.runs import ItemResult, ItemsRepo, OutputRow, RunsRepo
from conveyor.store.types import utcnow
from conveyor.store.versioned import VersionedRepo
from tests.support.inprocess import running_app, test_settings

NAMES = [("a.pdf", "application/pdf"), ("b.pdf", "application/pdf"), ("c.txt", "text/plain"),
         ("d.csv", "text/csv"), ("notes.md", "text/markdown")]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def seed(db: Database) -> tuple[Project, Container, list[Element]]:
    project = await ProjectsRepo(db).create("p")
    now = utcnow()
    container = await ContainersRepo(db).add(Container(
        id=new_id(Kind.CONTAINER), project_id=project.id, name="c", description="", kind="upload", extra={},
        created_at=now, updated_at=now, last_ingest_at=None, last_ingest_status=None))
    elements = []
    for index, (name, media_type) in enumerate(NAMES):
        elements.append(await ElementsRepo(db).add(Element(
            id=new_id(Kind.ELEMENT), project_id=project.id, container_id=container.id, name=name,
            description=None, media_type=media_type, size=10, sha256=f"{index:064d}", meta={},
            source_run_id=None, source_element_id=None, artifact_name=None, created_at=now, updated_at=now), 10))
    return project, container, elements


async def new_run(db: Database, project: Project, container: Container, element_filter: ElementFilter) -> Run:
    agents, recipes = VersionedRepo(db, Agent), VersionedRepo(db, Recipe)
    now = utcnow()
    agent = await agents.add(Agent(id=new_id(Kind.AGENT), project_id=project.id, lineage_id="l", name="a",
                                   version=1, parent_version=None, spec={"type": "parse"}, published_at=None,
                                   commit_message=None, created_at=now, deleted_at=None))
    recipe = await recipes.add(Recipe(
        id=new_id(Kind.RECIPE), project_id=project.id, lineage_id=new_id(Kind.RECIPE), name="r", version=1,
        parent_version=None, agent_id=agent.id, agent_urn="urn", agent_spec=agent.spec,
        input_container_id=container.id, filters=element_filter.to_json(), output_container_id=container.id,
        user_message=None, concurrency=2, retry_limit=1, recurrence_cron=None, description=None,
        created_by="t", created_at=now, deleted_at=None))
    return await RunsRepo(db).create(Run(
        id=new_id(Kind.RUN), project_id=project.id, recipe_id=recipe.id, status=RunStatus.PENDING.value,
        input_container_id=container.id, output_container_id=container.id, input_overrides=None,
        batch_spec=None, total_items=0, error=None, extra={}, start_time=now, end_time=None, updated_at=now),
        element_filter)


async def test_migrations_create_every_table(db: Database) -> None:
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert {"projects", "api_keys", "containers", "elements", "blobs", "agents", "artifact_schemas",
            "recipes", "runs", "items", "uploads", "downloads", "alembic_version"} <= tables


@pytest.mark.parametrize(("element_filter", "expected"), [
    (ElementFilter(), {n for n, _ in NAMES}),
    (ElementFilter(regex=r"\.pdf$"), {"a.pdf", "b.pdf"}),
    (ElementFilter(media_types=("text/*",)), {"c.txt", "d.csv", "notes.md"}),
    (ElementFilter(media_types=("text/csv", "application/pdf"), regex="^[ab]"), {"a.pdf", "b.pdf"}),
])
async def test_run_freezes_the_filtered_element_set(db: Database, element_filter: ElementFilter,
                                                    expected: set[str]) -> None:
    project, container, _ = await seed(db)
    run = await new_run(db, project, container, element_filter)
    assert run.total_items == len(expected)
    page = await ItemsRepo(db).page(run.id, status=None, cursor=None, limit=100)
    assert {i.element_name for i in page.items} == expected
    counts = await RunsRepo(db).counts(run.id)
    assert counts[ItemStatus.PENDING] == len(expected) and counts[ItemStatus.RUNNING] == 0


async def test_element_ids_filter(db: Database) -> None:
    project, container, elements = await seed(db)
    chosen = (elements[1].id, elements[3].id)
    run = await new_run(db, project, container, ElementFilter(element_ids=chosen))
    page = await ItemsRepo(db).page(run.id, status=None, cursor=None, limit=100)
    assert {i.element_id for i in page.items} == set(chosen)


async def test_claim_lease_fencing_and_recovery(db: Database) -> None:
    project, container, _ = await seed(db)
    run = await new_run(db, project, container, ElementFilter())
    items, runs = ItemsRepo(db), RunsRepo(db)
    soon = utcnow() + timedelta(seconds=60)
    first = [c.item for c in await items.claim(run.id, 2, "owner-a", soon)]
    assert len(first) == 2 and all(i.attempts == 1 and i.status == "RUNNING" for i in first)
    second = await items.claim(run.id, 10, "owner-b", soon)
    assert len(second) == 3 and not {i.id for i in first} & {c.item.id for c in second}
    assert all(c.element is not None and c.element.id == c.item.element_id for c in second)
    assert await items.claim(run.id, 10, "owner-c", soon) == []

    def result(item_id: int, owner: str, status: ItemStatus, **fields: object) -> ItemResult:
        return ItemResult(item_id=item_id, run_id=run.id, owner=owner, status=status, project_id=project.id,
                          element_id=next(i.element_id for i in first if i.id == item_id),
                          output_container_id=container.id, **fields)  # type: ignore[arg-type]

    assert await items.apply([result(first[0].id, "owner-b", ItemStatus.SUCCEEDED)]) == 0, "stale owner"
    later = utcnow() + timedelta(hours=1)
    assert await items.apply([result(first[0].id, "owner-a", ItemStatus.SUCCEEDED),
                              result(first[1].id, "owner-a", ItemStatus.PENDING, error="429",
                                     not_before=later)]) == 2
    assert await items.claim(run.id, 10, "owner-c", soon) == [], "a backed-off item is not due yet"
    due = await items.next_due(run.id)
    assert due is not None and abs((due - later).total_seconds()) < 1

    await items.heartbeat("owner-b", [c.item.id for c in second], utcnow() - timedelta(seconds=1))
    assert await items.recover_expired(max_lease_losses=3) == 3
    reclaimed = [c.item for c in await items.claim(run.id, 10, "owner-d", soon)]
    assert len(reclaimed) == 3 and all(i.attempts == 1 for i in reclaimed), "recovery gives the attempt back"
    assert await items.release("owner-d", [reclaimed[0].id]) == 1
    expected = {ItemStatus.PENDING: 2, ItemStatus.RUNNING: 2, ItemStatus.SUCCEEDED: 1,
                ItemStatus.FAILED: 0, ItemStatus.CANCELLED: 0}
    assert await runs.counts(run.id) == await runs.recount(run.id) == expected


async def test_an_item_that_keeps_killing_its_worker_fails(db: Database) -> None:
    project, container, _ = await seed(db)
    run = await new_run(db, project, container, ElementFilter(regex="^a"))
    items, runs = ItemsRepo(db), RunsRepo(db)
    for loss in range(1, 4):
        assert len(await items.claim(run.id, 1, f"worker-{loss}", utcnow() - timedelta(seconds=1))) == 1
        assert await items.recover_expired(max_lease_losses=3) == 1
    [item] = (await items.page(run.id, status=None, cursor=None, limit=10)).items
    assert item.status == "FAILED" and "stopped 3 times" in (item.error or "")
    assert await runs.counts(run.id) == await runs.recount(run.id)


async def test_outputs_and_status_are_written_together(db: Database) -> None:
    project, container, elements = await seed(db)
    run = await new_run(db, project, container, ElementFilter(regex=r"^a\.pdf$"))
    items = ItemsRepo(db)
    [claimed] = await items.claim(run.id, 1, "w", utcnow() + timedelta(seconds=60))
    rows = (OutputRow("markdown", "markdown", "a.pdf.md", "text/markdown", 3, "9" * 64),
            OutputRow("text", "text", "a.pdf.txt", "text/plain", 3, "8" * 64))
    done = ItemResult(item_id=claimed.item.id, run_id=run.id, owner="w", status=ItemStatus.SUCCEEDED,
                      project_id=project.id, element_id=elements[0].id, output_container_id=container.id,
                      outputs=rows)
    assert await items.apply([done]) == 1
    [item] = (await items.page(run.id, status=None, cursor=None, limit=10)).items
    assert [o["filename"] for o in item.outputs or []] == ["a.pdf.md", "a.pdf.txt"]
    stored = await ElementsRepo(db).outputs_of([elements[0].id])
    assert sorted(e.name for e in stored) == ["a.pdf.md", "a.pdf.txt"]
    assert {o["data_element_id"] for o in item.outputs or []} == {e.id for e in stored}


async def test_run_status_moves_only_along_domain_transitions(db: Database) -> None:
    project, container, _ = await seed(db)
    run = await new_run(db, project, container, ElementFilter())
    runs = RunsRepo(db)
    assert await runs.set_status(run.id, RunStatus.RUNNING)
    assert not await runs.set_status(run.id, RunStatus.PENDING), "never back to PENDING"
    assert await runs.set_status(run.id, RunStatus.COMPLETED, end_time=utcnow())
    assert not await runs.set_status(run.id, RunStatus.CANCELLED), "a completed run cannot be cancelled"
    stored = await runs.get(project.id, run.id)
    assert stored is not None and stored.status == "COMPLETED" and stored.end_time is not None
    assert await runs.get("prj_other", run.id) is None, "another project's run is invisible"


async def test_versions_fork_and_soft_delete(db: Database) -> None:
    project = await ProjectsRepo(db).create("p")
    agents = VersionedRepo(db, Agent)
    now = utcnow()

    def row(lineage: str) -> Agent:
        return Agent(id=new_id(Kind.AGENT), project_id=project.id, lineage_id=lineage, name=lineage, version=1,
                     parent_version=None, spec={}, published_at=None, commit_message=None, created_at=now,
                     deleted_at=None)

    await agents.add(row("one"))
    await agents.add(row("two"))
    forked = await agents.fork(row("one"))
    assert forked.version == 2
    latest = await agents.list_latest(project.id, 0, None)
    assert sorted((a.lineage_id, a.version) for a in latest.rows) == [("one", 2), ("two", 1)]
    await agents.soft_delete("one")
    assert [a.lineage_id for a in (await agents.list_latest(project.id, 0, None)).rows] == ["two"]
    assert (await agents.versions("one", 0, None)).total == 2


async def test_rewriting_an_items_outputs_never_duplicates(db: Database) -> None:
    """Three attempts of one item write ``markdown`` three times: one element, holding the last write."""
    project, container, elements = await seed(db)
    run = await new_run(db, project, container, ElementFilter(regex=r"^a\.pdf$"))
    items = ItemsRepo(db)
    for attempt in range(3):
        [claimed] = await items.claim(run.id, 1, "w", utcnow() + timedelta(seconds=60))
        row = OutputRow("markdown", "markdown", "a.pdf.md", "text/markdown", attempt, f"{attempt + 100:064d}")
        status = ItemStatus.SUCCEEDED if attempt == 2 else ItemStatus.PENDING
        await items.apply([ItemResult(item_id=claimed.item.id, run_id=run.id, owner="w", status=status,
                                      project_id=project.id, element_id=elements[0].id,
                                      output_container_id=container.id, outputs=(row,))])
    outputs = await ElementsRepo(db).outputs_of([elements[0].id])
    assert len(outputs) == 1 and outputs[0].size == 2


async def test_a_parse_run_completes_on_this_backend(database_url: str, tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", database_url=database_url)
    async with running_app(settings) as (client, _core):
        ds = (await client.post("/v2/datasources", json={"name": "d"})).json()["id"]
        files = [("files", (f"doc{i}.md", f"# Title {i}\n\nBody {i}".encode(), "text/markdown")) for i in range(3)]
        assert (await client.post(f"/v2/datasources/{ds}/content", files=files)).status_code == 202
        agent = (await client.post("/v2/agents", json={"display_name": "P", "type": "parse"})).json()["id"]
        definition = (await client.post("/v2/batch-definitions", json={
            "name": "p", "agent_id": agent, "input_datasource_id": ds})).json()["id"]
        run_id = (await client.post(f"/v2/batch-definitions/id/{definition}/execute")).json()["execution_id"]
        for _ in range(300):
            run = (await client.get(f"/v2/batch-executions/id/{run_id}")).json()
            if run["status"] == "COMPLETED":
                break
            await asyncio.sleep(0.1)
        assert run["status"] == "COMPLETED" and run["succeeded"] == 3
        assert sorted(i["filename"] for i in run["items"]) == ["doc0.md", "doc1.md", "doc2.md"]


async def test_a_runs_concurrency_holds_across_processes(db: Database) -> None:
    """Two engines (owners) on one database: the RUNNING count in the database caps both."""
    project, container, _ = await seed(db)
    run = await new_run(db, project, container, ElementFilter())
    items = ItemsRepo(db)
    soon = utcnow() + timedelta(seconds=60)
    first = await items.claim(run.id, 10, "process-a", soon, concurrency=3)
    assert len(first) == 3
    assert await items.claim(run.id, 10, "process-b", soon, concurrency=3) == []
    done = ItemResult(item_id=first[0].item.id, run_id=run.id, owner="process-a", status=ItemStatus.SUCCEEDED,
                      project_id=project.id, element_id=first[0].item.element_id, output_container_id=container.id)
    assert await items.apply([done]) == 1
    assert len(await items.claim(run.id, 10, "process-b", soon, concurrency=3)) == 1


async def test_token_usage_adds_up_over_attempts_even_when_a_lease_was_lost(db: Database) -> None:
    project, container, _ = await seed(db)
    run = await new_run(db, project, container, ElementFilter())
    items = ItemsRepo(db)
    soon = utcnow() + timedelta(seconds=60)
    [claimed] = await items.claim(run.id, 1, "owner-a", soon)

    def spent(owner: str, status: ItemStatus, prompt: int) -> ItemResult:
        return ItemResult(item_id=claimed.item.id, run_id=run.id, owner=owner, status=status, project_id=project.id,
                          element_id=claimed.item.element_id, output_container_id=container.id,
                          usage=Usage(requests=1, prompt_tokens=prompt, completion_tokens=5))

    assert await items.apply([spent("owner-a", ItemStatus.PENDING, 100)]) == 1
    [again] = await items.claim(run.id, 1, "owner-b", soon)
    assert await items.apply([spent("owner-a", ItemStatus.SUCCEEDED, 10)]) == 0, "owner-a lost the lease"
    assert await items.apply([spent("owner-b", ItemStatus.SUCCEEDED, 1)]) == 1
    found = await items.get(again.item.id)
    assert found is not None
    item, stored = found
    assert (item.status, item.llm_requests, item.prompt_tokens, item.completion_tokens) == ("SUCCEEDED", 3, 111, 15)
    assert (stored.prompt_tokens, stored.completion_tokens) == (111, 15)
