"""The OpenAPI document tells the truth about the configured limits.

Route signatures carry static bounds (`k <= 1000`); the effective ones come from the settings
(`MAX_K`, `MAX_BATCH`), so the document is patched with them once, when first asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.config import ServiceSettings

# Request bodies whose lists are bounded by MAX_BATCH: schema name -> list field.
BATCH_LISTS = {
    "ChurnBatchRequest": "customer_ids",
    "LeadBatchIn": "leads",
    "EventBatchIn": "events",
}


def install_openapi(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve an OpenAPI document whose limits are the configured ones."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = with_limits(schema, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_limits(schema: dict[str, Any], settings: ServiceSettings) -> dict[str, Any]:
    """Set `k` and `limit` maxima and the batch lists' maxItems from `settings`."""
    maxima = {"k": settings.max_k, "limit": settings.max_batch}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param.get("name") in maxima and param.get("in") == "query":
                    param["schema"]["maximum"] = maxima[param["name"]]
                    param["description"] = (
                        param.get("description", "") + f" At most {maxima[param['name']]}."
                    ).strip()
    components = schema.get("components", {}).get("schemas", {})
    for name, field in BATCH_LISTS.items():
        if name in components:
            components[name]["properties"][field]["maxItems"] = settings.max_batch
    return schema
