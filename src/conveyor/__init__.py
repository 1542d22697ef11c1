"""Conveyor: a self-hosted batch document-AI server."""

from __future__ import annotations

from conveyor.errors import ConveyorError, PermanentError, RetryableError
from conveyor.processors.base import Artifact, ItemInput

__all__ = ["Artifact", "ConveyorError", "ItemInput", "PermanentError", "RetryableError"]
__version__ = "0.1.0"
