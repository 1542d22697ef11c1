"""The one place where Conveyor errors become HTTP responses; tracebacks never leak."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from conveyor.errors import (
    AuthenticationError,
    ConflictError,
    ConveyorError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
)

log = logging.getLogger("conveyor.api")

_STATUS: dict[type[ConveyorError], int] = {
    AuthenticationError: 401,
    NotFoundError: 404,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    InvalidInputError: 422,
}


def status_for(error: ConveyorError) -> int:
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


def error_response(error: ConveyorError) -> JSONResponse:
    status = status_for(error)
    if isinstance(error, InvalidInputError):
        detail = [{"loc": list(error.loc), "msg": error.message, "type": error.kind}]
        return JSONResponse({"detail": detail}, status_code=422)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": error.message}, status_code=status, headers=headers)


async def _conveyor_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConveyorError)
    if status_for(exc) == 500:
        log.error("unexpected %s: %s", type(exc).__name__, exc.message)
    return error_response(exc)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ConveyorError, _conveyor_error)
    app.add_exception_handler(Exception, _unexpected)
