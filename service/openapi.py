"""The OpenAPI document: the truth about the configured limits and the lead champion's fields.

Route signatures carry static bounds (`k <= 1000`); the effective ones come from the settings
(`MAX_K`, `MAX_BATCH`). `POST /v1/leads/score` takes whatever fields the lead champion was
trained on, so its request schema is built from the champion's feature specs. The document is
built when first asked for and rebuilt when the lead champion changes (promote, rollback, a new
training picked up by the hot swap).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from models.champions import ModelSet
from models.scoring.fields import record_schema
from service.config import ServiceSettings
from service.scoring import lead_id_fields

LEAD_PATH = "/v1/leads/score"
FIELDS, BATCH = "LeadFields", "LeadBatch"
# Request bodies whose lists are bounded by MAX_BATCH: schema name -> list field.
BATCH_LISTS = {
    "ChurnBatchRequest": "customer_ids",
    "EventBatchIn": "events",
}


def install_openapi(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve an OpenAPI document with the configured limits and the loaded lead champion."""
    built_for: list[Any] = [object()]  # the (version, run id) the cached document describes

    def openapi() -> dict[str, Any]:
        models: ModelSet | None = getattr(app.state, "models", None)
        lead = models.lead if models is not None else None
        key = (lead.name, lead.version, lead.run_id) if lead is not None else None
        if app.openapi_schema is None or built_for[0] != key:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _lead_body(schema, models, settings.max_batch)
            app.openapi_schema = with_limits(schema, settings)
            built_for[0] = key
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


def _lead_body(schema: dict[str, Any], models: ModelSet | None, max_batch: int) -> None:
    operation = schema.get("paths", {}).get(LEAD_PATH, {}).get("post")
    if operation is None:
        return
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    lead = models.lead if models is not None else None
    if lead is None:
        components[FIELDS] = {
            "title": FIELDS,
            "type": "object",
            "description": "No lead model is loaded; train one with `valuechain train lead`.",
        }
    else:
        title = f"Lead fields of {lead.name} version {lead.version}"
        components[FIELDS] = record_schema(lead.model.specs, lead_id_fields(lead.model), title)
        operation["description"] = (
            operation.get("description", "")
            + f"\n\nServed model: {lead.name} version {lead.version}. "
            + f"Grades: {lead.model.tier_rule.rule()}."
        )
    components[BATCH] = _batch_schema(max_batch)
    body = operation["requestBody"]["content"]["application/json"]
    body["schema"] = {
        "anyOf": [
            {"$ref": f"#/components/schemas/{FIELDS}"},
            {"$ref": f"#/components/schemas/{BATCH}"},
        ],
        "description": body.get("schema", {}).get("description", ""),
    }


def _batch_schema(max_batch: int) -> dict[str, Any]:
    return {
        "title": BATCH,
        "type": "object",
        "properties": {
            "leads": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{FIELDS}"},
                "minItems": 1,
                "maxItems": max_batch,
            }
        },
        "required": ["leads"],
        "additionalProperties": False,
    }
