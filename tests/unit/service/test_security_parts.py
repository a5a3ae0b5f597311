"""Roles nest, the OpenAPI limits follow the settings, logs are JSON with the request id."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from features.api_keys import KeyRole, digest
from service.config import ServiceSettings
from service.logs import logging_config, request_id
from service.openapi import with_limits


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (KeyRole.read, {KeyRole.read}),
        (KeyRole.write, {KeyRole.read, KeyRole.write}),
        (KeyRole.admin, {KeyRole.read, KeyRole.write, KeyRole.admin}),
    ],
)
def test_roles_nest(role: KeyRole, allowed: set[KeyRole]) -> None:
    assert {needed for needed in KeyRole if role.allows(needed)} == allowed


def test_keys_are_stored_as_digests_only() -> None:
    assert digest("vck_abc") != "vck_abc" and len(digest("vck_abc")) == 64


def test_the_schema_carries_the_configured_limits() -> None:
    # Guards `k` documented up to 1000 while the service rejected anything above MAX_K.
    schema = {
        "paths": {
            "/r": {
                "get": {"parameters": [{"name": "k", "in": "query", "schema": {"maximum": 1000}}]}
            }
        },
        "components": {
            "schemas": {"ChurnBatchRequest": {"properties": {"customer_ids": {"type": "array"}}}}
        },
    }
    settings = ServiceSettings(_env_file=None, max_k=40, max_batch=7)
    out = with_limits(schema, settings)
    assert out["paths"]["/r"]["get"]["parameters"][0]["schema"]["maximum"] == 40
    batch = out["components"]["schemas"]["ChurnBatchRequest"]["properties"]["customer_ids"]
    assert batch["maxItems"] == 7


def test_rate_limit_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        ServiceSettings(_env_file=None, rate_limit="lots")


def test_logs_are_json_with_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    config = logging_config("json", "INFO")
    logging.config.dictConfig(config)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    monkeypatch.setattr(handler, "stream", stream)
    token = request_id.set("req-7")
    try:
        logging.getLogger("service.test").info("scored %d leads", 3)
    finally:
        request_id.reset(token)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "scored 3 leads" and line["request_id"] == "req-7"
    assert line["level"] == "INFO" and line["logger"] == "service.test"
