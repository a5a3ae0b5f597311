"""Responses serialised once.

A route that returns a pydantic model has FastAPI validate it against `response_model` again
(for a sync route, in the thread pool) and then encode it: the installed FastAPI (0.165) with
pydantic-core, releases before its `dump_json` path (still allowed by `fastapi>=0.115`) by
dumping it to Python objects and encoding those with the standard `json` module. The hot routes
build their (already validated) model and return it as JSON bytes straight from pydantic-core;
the bytes equal FastAPI 0.165's. The route's `response_model` stays, so the OpenAPI document is
unchanged.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def json_model(model: BaseModel, status_code: int = 200) -> Response:
    """`model` as `application/json`, encoded once by pydantic-core."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
