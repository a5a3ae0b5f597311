"""Domain errors that carry their HTTP status, and the one handler that serialises them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class ServiceError(Exception):
    """Base of errors a client can see; `status` is the HTTP status."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class BadRequest(ServiceError):
    status = 422
    code = "invalid_request"


class ModelUnavailable(ServiceError):
    status = 503
    code = "model_unavailable"


class StoreUnavailable(ServiceError):
    status = 503
    code = "store_unavailable"


async def _handle(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse(status_code=exc.status,
                        content={"detail": exc.message, "code": exc.code})


def install_handlers(app: FastAPI) -> None:
    """Register the handler for every `ServiceError`."""
    app.add_exception_handler(ServiceError, _handle)
