"""The one exception tree of Conveyor.

Every error the product raises on purpose is a :class:`ConveyorError`. A subclass's docstring is its
default message; the API layer maps the classes to HTTP statuses in one place (``api/errors.py``).
"""

from __future__ import annotations

from typing import Any


class ConveyorError(Exception):
    """Conveyor failed."""

    def __init__(self, message: str | None = None, **context: Any) -> None:
        self.message = message or (type(self).__doc__ or "error").strip().splitlines()[0]
        self.context = context
        super().__init__(self.message)


class NotFoundError(ConveyorError):
    """Not found."""


class ConflictError(ConveyorError):
    """The request conflicts with the current state."""


class InvalidInputError(ConveyorError):
    """Invalid input."""

    def __init__(self, message: str | None = None, *, loc: tuple[str | int, ...] = ("body",),
                 kind: str = "value_error", **context: Any) -> None:
        super().__init__(message, **context)
        self.loc = loc
        self.kind = kind


class PayloadTooLargeError(ConveyorError):
    """The upload is larger than this server accepts."""


class AuthenticationError(ConveyorError):
    """A valid API key is required."""


class ConfigurationError(ConveyorError):
    """The server's configuration is invalid."""


class ProcessorError(ConveyorError):
    """The processor failed on this item."""


class RetryableError(ProcessorError):
    """The processor failed for a reason that may go away: try this item again later."""

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class PermanentError(ProcessorError):
    """The processor can never succeed on this item (corrupt or unsupported input)."""
