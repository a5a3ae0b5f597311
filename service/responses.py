"""JSON responses serialised once: plain payloads through orjson, models through pydantic-core.

A route that returns a pydantic model makes FastAPI validate it against `response_model` and
then serialise it; the hot routes build their payload already in the documented shape (the
`response_model` of the route stays, so the OpenAPI document is unchanged) and return it as
bytes, skipping both. `tests/unit/service/test_responses.py` checks the payloads against the
response models.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from models.recommender.model import RecResult

# NaN and infinities become null, as pydantic writes them; numpy scalars and arrays serialise.
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class OrjsonResponse(Response):
    """`application/json` rendered by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


def json_payload(payload: Any, status_code: int = 200) -> Response:
    """A payload (dicts, lists, str, numbers, None) as JSON, serialised once by orjson."""
    return OrjsonResponse(payload, status_code=status_code)


def json_model(model: BaseModel, status_code: int = 200) -> Response:
    """An already validated model as JSON, serialised once by pydantic-core."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def recommendations_payload(result: RecResult, version: str, **ids: str) -> dict[str, Any]:
    """The `Recommendations` payload: customer_id or item_id, items, fallback, model_version."""
    items = [
        {"item_id": i.item_id, "score": float(i.score), "reason": i.reason, "source": i.source}
        for i in result.items
    ]
    payload: dict[str, Any] = {"customer_id": None, "item_id": None, **ids}
    payload.update(items=items, fallback=result.fallback, model_version=version)
    return payload
