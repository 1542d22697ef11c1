"""``conveyor keys create|list|revoke``: API keys of the local database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from conveyor.errors import ConveyorError
from conveyor.services.auth import AuthService
from conveyor.settings import Settings
from conveyor.store.database import Database
from conveyor.store.projects import ProjectsRepo

app = typer.Typer(help="Manage API keys (only their hashes are stored).", no_args_is_help=True)
T = TypeVar("T")


def _with_auth(action: Callable[[AuthService], Awaitable[T]]) -> T:
    async def main() -> T:
        settings = Settings()
        settings.ensure_dirs()
        db = Database(settings.resolved_database_url)
        try:
            await db.migrate()
            return await action(AuthService(ProjectsRepo(db)))
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except ConveyorError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(1) from e


@app.command()
def create(name: Annotated[str, typer.Option(help="A label for the key.")] = "cli",
           project: Annotated[str | None, typer.Option(help="Project id (default project if omitted).")] = None,
           ) -> None:
    """Create a key and print it once."""
    secret, row = _with_auth(lambda auth: auth.create_key(project, name))
    typer.echo(f"{row.id}  {secret}")
    typer.echo("Store this key now: it is not shown again.", err=True)


@app.command("list")
def list_keys() -> None:
    """List keys (id, project, name, prefix, created, revoked)."""
    rows = _with_auth(lambda auth: auth.list_keys())
    table = Table("id", "project", "name", "prefix", "created", "revoked")
    for row in rows:
        table.add_row(row.id, row.project_id, row.name, row.prefix + "…", row.created_at.isoformat(timespec="seconds"),
                      row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "")
    Console().print(table)


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `conveyor keys list`).")]) -> None:
    """Revoke a key: requests with it answer 401 from then on."""
    _with_auth(lambda auth: auth.revoke_key(key_id))
    typer.echo(f"revoked {key_id}")
