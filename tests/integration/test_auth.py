"""The auth matrix over every route, key management through the CLI, and what stays open."""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from features.redis_keys import KeyLayout
from tests.integration.conftest import World, run_cli

pytestmark = pytest.mark.integration

PUBLIC = {"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"}
IN_SCHEMA_PUBLIC = {"/healthz", "/readyz"}
# The role each non-public operation needs; every operation in the OpenAPI document is listed.
NEEDS = {
    ("get", "/v1/customers/{customer_id}/recommendations"): "read",
    ("get", "/v1/customers/{customer_id}/upsell"): "read",
    ("get", "/v1/models/{role}"): "read",
    ("get", "/v1/items/{item_id}/similar"): "read",
    ("get", "/v1/items/{item_id}/bought-together"): "read",
    ("get", "/v1/customers/{customer_id}/churn"): "read",
    ("post", "/v1/churn/score"): "read",
    ("get", "/v1/customers/at-risk"): "read",
    ("get", "/v1/customers/{customer_id}"): "read",
    ("get", "/v1/segments"): "read",
    ("post", "/v1/events"): "write",
    ("post", "/v1/leads/score"): "write",
    ("get", "/v1/models"): "admin",
    ("get", "/v1/admin/models"): "admin",
    ("post", "/v1/admin/models/reload"): "admin",
}
ROLES = ("read", "write", "admin")


def _call(api: httpx.Client, method: str, path: str, key: str | None) -> httpx.Response:
    url = path.replace("{customer_id}", "C1").replace("{item_id}", "I1").replace("{role}", "lead")
    headers = {"X-API-Key": key} if key is not None else {}
    # A fresh client: the session client sends the admin key by default.
    with httpx.Client(base_url=str(api.base_url), timeout=30, headers=headers) as bare:
        return bare.request(method.upper(), url, json={} if method == "post" else None)


def test_every_operation_is_in_the_matrix(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths) >= IN_SCHEMA_PUBLIC
    operations = {(m, p) for p, ops in paths.items() for m in ops if p not in PUBLIC}
    assert operations == set(NEEDS)
    for method, path in NEEDS:
        assert paths[path][method]["security"] == [{"APIKeyHeader": []}], path
        assert {"401", "403", "429"} <= set(paths[path][method]["responses"]), path


@pytest.mark.parametrize(("method", "path"), sorted(NEEDS))
def test_missing_or_bad_key_is_401(api: httpx.Client, method: str, path: str) -> None:
    for key in (None, "", "vck_not-a-real-key"):
        resp = _call(api, method, path, key)
        assert resp.status_code == 401, (key, resp.text)
        assert resp.json()["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), sorted(NEEDS))
def test_roles_nest_and_a_lower_role_is_403(
    api: httpx.Client, world: World, method: str, path: str
) -> None:
    needed = ROLES.index(NEEDS[(method, path)])
    for rank, role in enumerate(ROLES):
        resp = _call(api, method, path, world.keys[role])
        if rank < needed:
            assert resp.status_code == 403 and resp.json()["code"] == "forbidden", role
        else:
            assert resp.status_code not in (401, 403), (role, resp.text)


def test_public_routes_need_no_key(api: httpx.Client) -> None:
    with httpx.Client(base_url=str(api.base_url), timeout=30) as bare:
        for path in sorted(PUBLIC):
            assert bare.get(path).status_code in (200, 503), path  # /readyz may be 503


def test_keys_are_stored_hashed_listed_and_revocable(api: httpx.Client, world: World) -> None:
    out = run_cli(world.env, "keys", "create", "--name", "temp", "--role", "read").stdout
    token = out.strip().splitlines()[-1]
    assert token.startswith("vck_")
    stored = redis.Redis.from_url(world.env["REDIS_URL"]).hgetall(
        KeyLayout(world.env["KEY_PREFIX"]).api_keys
    )
    assert b"temp" in stored and token.encode() not in b"".join(stored.values())
    assert "temp\tread" in run_cli(world.env, "keys", "list").stdout
    _wait_for(api, token, 200)  # workers pick new keys up within KEYS_REFRESH_SECONDS
    run_cli(world.env, "keys", "revoke", "temp")
    _wait_for(api, token, 401)


def _wait_for(api: httpx.Client, token: str, status: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _call(api, "get", "/v1/segments", token).status_code == status:
            return
        time.sleep(0.25)
    pytest.fail(f"the key never got {status}")
