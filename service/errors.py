"""Domain errors that carry their HTTP status, and the handlers that serialise every error.

Every error body is `{"detail": ..., "code": ...}`; request validation keeps FastAPI's list of
problems (each naming its field) under `detail`.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of errors a client can see; `status` is the HTTP status."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        detail: list[dict[str, Any]] | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # A list of problems, each naming its field, like FastAPI's own validation errors.
        self.detail: str | list[dict[str, Any]] = detail if detail is not None else message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """Response headers: `Retry-After` (seconds) when the client should come back later."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class BadRequest(ServiceError):
    status = 422
    code = "invalid_request"


class MalformedBody(ServiceError):
    status = 400
    code = "malformed_body"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "APIKey"}


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class ModelUnavailable(ServiceError):
    status = 503
    code = "model_unavailable"


class StoreUnavailable(ServiceError):
    status = 503
    code = "store_unavailable"


class CacheMismatch(ServiceError):
    """The churn champion needs features the current cache version does not hold."""

    status = 503
    code = "cache_mismatch"


def _body(
    status: int, detail: object, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"detail": jsonable_encoder(detail), "code": code},
        headers=headers,
    )


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return _body(exc.status, exc.detail, exc.code, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        # Not JSON at all: a malformed request (400), not a field that failed validation (422).
        return _body(400, "the request body is not valid JSON", MalformedBody.code)
    return _body(422, errors, BadRequest.code)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: NotFound.code, 400: MalformedBody.code}.get(exc.status_code, "http_error")
    return _body(exc.status_code, exc.detail, code, dict(exc.headers or {}))


async def _redis_error(_: Request, exc: Exception) -> JSONResponse:
    logger.error("feature store error: %s", exc)
    return _body(
        503,
        "the feature store is unavailable; try again shortly",
        StoreUnavailable.code,
        {"Retry-After": "1"},
    )


def install_handlers(app: FastAPI) -> None:
    """Register the handlers for domain errors, validation errors and store outages."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(redis.RedisError, _redis_error)
