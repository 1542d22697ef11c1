"""``conveyor llm serve``: a local OpenAI-compatible LLM for users without an API key (and for tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.errors import ConfigurationError
from conveyor.llm.local_model import DEFAULT_CONTEXT, DEFAULT_PORT, MODEL_ALIAS
from conveyor.settings import Settings

app = typer.Typer(help="The local LLM.", no_args_is_help=True)


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
          context: Annotated[int, typer.Option(help="Context window in tokens.")] = DEFAULT_CONTEXT,
          models_dir: Annotated[Path | None, typer.Option(help="Where the model file is kept; "
                                                          "default HOME/models.")] = None) -> None:
    """Serve the bundled gemma3-270m model at http://HOST:PORT/v1 (Conveyor's default LLM provider)."""
    import uvicorn

    from conveyor.llm.local_model import create_app

    folder = models_dir or Settings().home / "models"
    try:
        asgi = create_app(folder, context=context)
    except ConfigurationError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(2) from e
    typer.echo(f"serving {MODEL_ALIAS} at http://{host}:{port}/v1")
    uvicorn.run(asgi, host=host, port=port, log_level="warning")
