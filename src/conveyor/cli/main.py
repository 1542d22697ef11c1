"""``conveyor``: serve the API, run a one-shot batch, manage API keys, write sample documents."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import keys, llm, oneshot
from conveyor.settings import Settings

app = typer.Typer(help="Conveyor: self-hosted batch document AI.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.add_typer(keys.app, name="keys")
app.add_typer(llm.app, name="llm")
app.command("run")(oneshot.run)


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None) -> None:
    """Start the API server on the embedded defaults (SQLite, local blobs, local engine)."""
    import uvicorn

    from conveyor.api.app import create_app

    settings = Settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
    asgi = create_app(settings)
    # the ~150,000 objects of the imported libraries live as long as the process: keep them out of the
    # cyclic GC, whose full passes over them stalled the event loop (and every request) for 100-200 ms
    gc.collect()
    gc.freeze()
    uvicorn.run(asgi, host=settings.host, port=settings.port, log_level=settings.log_level,
                timeout_graceful_shutdown=10)


@app.command()
def samples(directory: Annotated[Path, typer.Argument(help="Folder to write the sample documents to.")]) -> None:
    """Write a small set of sample documents (PDF, DOCX, HTML, Markdown, CSV, text, one broken file)."""
    from conveyor.samples import write_samples

    written = write_samples(directory)
    typer.echo(f"wrote {len(written)} sample documents to {directory}")


if __name__ == "__main__":
    app()
