"""``conveyor run PATH...``: a one-shot batch on the embedded stack, with no separate server.

The files go into a datasource named after the inputs and the agent, so running the same command
again on the same data directory finds that datasource and its run and resumes instead of starting
over. Ctrl-C cancels the run cleanly (in-flight items stop, nothing is half-written).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.errors import ConveyorError
from conveyor.services.containers import IncomingFile
from conveyor.services.core import Core, build_core
from conveyor.services.recipes import RecipeFields
from conveyor.settings import Settings
from conveyor.store.models import Container, Project, Run

console = Console()
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Job:
    """What the user asked for: input files (with names relative to their roots) and an agent."""

    files: list[tuple[str, Path]]
    agent_spec: dict[str, Any]
    concurrency: int
    retry_limit: int
    out: Path

    @property
    def key(self) -> str:
        material = json.dumps([[n, str(p.resolve())] for n, p in self.files] + [self.agent_spec], sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()[:16]


def run(paths: Annotated[list[Path], typer.Argument(help="Files or folders to process.", exists=True)],
        agent: Annotated[str, typer.Option(help="Built-in agent: parse, extract or llm.")] = "parse",
        callable_: Annotated[str | None, typer.Option("--callable", help="Run your function pkg.mod:fn.")] = None,
        schema: Annotated[Path | None, typer.Option(help="JSON Schema file of the fields --agent extract pulls out.",
                                                    exists=True, dir_okay=False)] = None,
        instructions: Annotated[str, typer.Option(help="Instructions for --agent llm or extract.")] = "",
        concurrency: Annotated[int, typer.Option(min=1, max=999, help="Items in flight.")] = 8,
        retry_limit: Annotated[int, typer.Option(min=0, max=999, help="Retries per item.")] = 2,
        out: Annotated[Path, typer.Option(help="Where to write the outputs.")] = Path("conveyor-output"),
        ) -> None:
    """Run one agent over every file under PATH... and write the outputs to --out."""
    files = _collect(paths)
    if not files:
        console.print("[red]no files found[/red]")
        raise typer.Exit(2)
    job = Job(files, _agent_spec(agent, callable_, schema, instructions), concurrency, retry_limit, out)
    try:
        code = asyncio.run(_main(job, Settings()))
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


def _agent_spec(agent: str, callable_: str | None, schema: Path | None, instructions: str) -> dict[str, Any]:
    if callable_:
        return {"display_name": "cli python", "type": "python", "instructions": "",
                "additional_properties": {"callable": callable_}}
    spec: dict[str, Any] = {"display_name": f"cli {agent}", "type": agent, "instructions": instructions}
    if schema is not None:
        try:
            spec["additional_properties"] = {"schema": json.loads(schema.read_text(encoding="utf-8"))}
        except (ValueError, UnicodeDecodeError) as e:
            console.print(f"[red]{schema} is not a JSON file: {e}[/red]")
            raise typer.Exit(2) from e
    elif agent == "extract":
        console.print("[red]--agent extract needs --schema FILE (a JSON Schema of the fields to extract)[/red]")
        raise typer.Exit(2)
    return spec


def _collect(paths: list[Path]) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for root in paths:
        if root.is_file():
            found.append((root.name, root))
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found.append((relative.as_posix(), path))
    return found


async def _main(job: Job, settings: Settings) -> int:
    core = build_core(settings)
    try:
        await core.db.migrate()
        project = (await core.auth.bootstrap(settings.api_key, make_key=False)).project
        run = await _prepare(core, project, job)
        await core.engine.start()
        try:
            run = await _watch(core, project, run)
        except asyncio.CancelledError:
            await core.engine.cancel(run.id)
            await _write_outputs(core, project, run, job.out)
            console.print("[yellow]cancelled[/yellow]: outputs of the finished files are written; "
                          "run the same command again to resume")
            return 130
        await _write_outputs(core, project, run, job.out)
        return await _summary(core, project, run, job.out)
    except ConveyorError as e:
        console.print(f"[red]error[/red]: {e.message}")
        return 1
    finally:
        await core.close()


async def _prepare(core: Core, project: Project, job: Job) -> Run:
    """Find or create the datasource, agent and definition of this job; resume its run or start one."""
    container = await _container(core, project, job)
    await _upload_missing(core, project, container, job)
    agent_id = await _agent(core, project, job.agent_spec)
    recipe = await core.recipes.find_or_create(project, RecipeFields(
        name=f"run-{job.key}", agent_id=agent_id, input_container_id=container.id,
        concurrency=job.concurrency, retry_limit=job.retry_limit), created_by="cli")
    previous = (await core.runs.list(project, input_container_id=container.id, offset=0, limit=1,
                                     sort_by="start_time", descending=True)).runs
    if previous and previous[0].recipe_id == recipe.id and previous[0].total_items == len(job.files):
        last = previous[0]
        if last.status == RunStatus.CANCELLED.value:
            await core.engine.resume(last.id)
        if last.status == RunStatus.COMPLETED.value:
            console.print(f"run {last.id} already completed for these files; writing its outputs again")
            return last
        if last.status != RunStatus.FAILED.value:
            console.print(f"resuming run {last.id}")
            return await core.runs.get(project, last.id)
    return await core.runs.execute(project, recipe.id)


async def _container(core: Core, project: Project, job: Job) -> Container:
    name = f"run-{job.key}"
    for container in await core.containers.list(project.id):
        if container.name == name:
            return container
    return await core.containers.create(project.id, name, "Inputs of `conveyor run`")


async def _upload_missing(core: Core, project: Project, container: Container, job: Job) -> None:
    present: set[tuple[str, int]] = set()
    cursor: str | None = None
    while True:
        page = await core.containers.page_elements(project.id, container.id, cursor=cursor, limit=1000)
        present |= {(e.name, e.size) for e in page.elements}
        if (cursor := page.next_cursor) is None:
            break
    for name, path in job.files:
        if (name, path.stat().st_size) not in present:
            await core.containers.add_file(project.id, container, IncomingFile(name, None, _read(path)))


async def _read(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, 1 << 20):
            yield chunk


async def _agent(core: Core, project: Project, spec: dict[str, Any]) -> str:
    for agent in await core.agents.list(project.id):
        if {k: agent.spec.get(k) for k in spec} == spec:
            return agent.id
    return (await core.agents.create(project.id, spec)).id


async def _watch(core: Core, project: Project, run: Run) -> Run:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("[red]{task.fields[failed]} failed"), TextColumn("{task.fields[rate]} items/s"),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("processing", total=run.total_items, failed=0, rate="0.0")
        while True:
            progress = await core.runs.progress(project, run.id)
            bar.update(task, completed=progress.done, failed=progress.counts[ItemStatus.FAILED],
                       rate=f"{progress.items_per_second:.1f}")
            if progress.status.terminal:
                return await core.runs.get(project, run.id)
            await asyncio.sleep(POLL_SECONDS)


async def _write_outputs(core: Core, project: Project, run: Run, out: Path) -> None:
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    cursor: int | None = None
    while True:
        page = await core.runs.items(project, run.id, status=ItemStatus.SUCCEEDED, cursor=cursor, limit=500)
        for item in page.items:
            for output in item.outputs or []:
                element = await core.containers.get_element(project.id, output["datasource_id"],
                                                            output["data_element_id"])
                await asyncio.to_thread(_copy, core.containers.blob_path(element), out / element.name)
        if (cursor := page.next_cursor) is None:
            return


async def _summary(core: Core, project: Project, run: Run, out: Path) -> int:
    """Print the outcome and each failed file with its reason; 0 when the run completed."""
    counts = await core.runs.counts(run)
    console.print(f"run {run.id} [bold]{run.status}[/bold]: {counts[ItemStatus.SUCCEEDED]} succeeded, "
                  f"{counts[ItemStatus.FAILED]} failed, {counts[ItemStatus.CANCELLED]} cancelled "
                  f"of {run.total_items}; outputs in {out}")
    failed = await _failures(core, project, run)
    if failed:
        print_failures(failed)
    return 0 if run.status == RunStatus.COMPLETED.value else 1


async def _failures(core: Core, project: Project, run: Run) -> list[tuple[str, str]]:
    failed: list[tuple[str, str]] = []
    cursor: int | None = None
    while True:
        page = await core.runs.items(project, run.id, status=ItemStatus.FAILED, cursor=cursor, limit=500)
        failed += [(i.element_name, i.error or "unknown error") for i in page.items]
        if (cursor := page.next_cursor) is None:
            return failed


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def print_failures(failed: list[tuple[str, str]]) -> None:
    table = Table("file", "reason", title=f"{len(failed)} file(s) failed", title_style="red")
    for name, reason in failed:
        table.add_row(name, reason)
    console.print(table)
