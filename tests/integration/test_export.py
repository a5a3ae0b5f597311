"""`valuechain export`: files a CRM can import, from the champions and the cache of a world."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.integration.conftest import VALUECHAIN, World, run_cli

pytestmark = pytest.mark.integration

SCORE_COLUMNS = [
    "customer_id", "churn_probability", "churn_score", "risk_tier", "top_reason",
    "model_version", "as_of",
]  # fmt: skip
REC_COLUMNS = [
    "customer_id", "rank", "item_id", "score", "reason", "source", "fallback",
    "model_version", "as_of",
]  # fmt: skip


def _customers(world: World) -> set[str]:
    return set(pd.read_parquet(world.data / "customers.parquet")["customer_id"].astype(str))


def test_scores_for_every_customer(world: World, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = run_cli(world.env, "export", "scores", "--out", out, "--chunk", "400")
    assert "wrote 1,500 rows for 1,500 customers" in result.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns) == SCORE_COLUMNS
    assert set(frame["customer_id"]) == _customers(world) and frame["customer_id"].is_unique
    assert frame["churn_probability"].between(0, 1).all()
    assert frame["churn_score"].between(0, 100).all()
    assert set(frame["risk_tier"]) <= {"high", "medium", "low"}
    assert frame["model_version"].astype(str).nunique() == 1


def test_recommendations_match_the_api(world: World, api: httpx.Client, tmp_path: Path) -> None:
    out = tmp_path / "recs.parquet"
    run_cli(world.env, "export", "recommendations", "--out", out, "--k", "4")
    frame = pd.read_parquet(out)
    assert list(frame.columns) == REC_COLUMNS
    assert frame.groupby("customer_id")["rank"].max().eq(4).all()
    assert frame["customer_id"].nunique() == len(_customers(world))
    customer = str(frame["customer_id"].iloc[0])
    mine = frame.loc[frame["customer_id"] == customer].sort_values("rank")
    served = api.get(f"/v1/customers/{customer}/recommendations", params={"k": 4}).json()
    # The API also folds in live events; for a customer without any they agree exactly.
    assert mine["item_id"].tolist() == [i["item_id"] for i in served["items"]]


def test_value_for_an_id_list(world: World, tmp_path: Path) -> None:
    ids = sorted(_customers(world))[:3]
    id_file = tmp_path / "ids.csv"
    pd.DataFrame({"customer_id": [*ids, "not-a-customer"]}).to_csv(id_file, index=False)
    out = tmp_path / "value.csv"
    result = run_cli(world.env, "export", "value", "--out", out, "--ids", id_file)
    assert "1 ids not in the cache: not-a-customer" in result.stderr
    frame = pd.read_csv(out)
    assert frame["customer_id"].tolist() == ids
    assert {"segment", "value_tier", "total_value", "predicted_clv", "tags"} <= set(frame.columns)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{tmp}/x.xlsx"], "unsupported file type"),
        (["--out", "{tmp}/x.csv", "--ids", "{tmp}/ids.csv"], "column 'customer_id': missing"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "ids.csv").write_text("id\nC1\n")
    result = subprocess.run(
        [*VALUECHAIN, "export", "value", *(a.format(tmp=tmp_path) for a in args)],
        env=world.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.csv"]
