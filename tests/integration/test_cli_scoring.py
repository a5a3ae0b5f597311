"""`valuechain train churn --table` and `valuechain score churn` with a temporary MLflow store."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.app import app
from features.settings import get_settings
from tests.unit.training.test_scoring import make_table

pytestmark = pytest.mark.integration


@pytest.fixture()
def runner(tmp_path: Path) -> Iterator[CliRunner]:
    importlib.import_module("cli.scoring")
    importlib.import_module("cli.score")
    get_settings.cache_clear()
    yield CliRunner(env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"})
    get_settings.cache_clear()


def test_byod_train_then_score_with_champion(runner: CliRunner, tmp_path: Path) -> None:
    table = make_table(900, seed=4)
    table.to_csv(tmp_path / "train.csv", index=False)
    table.drop(columns="churned").head(40).to_parquet(tmp_path / "score.parquet")
    trained = runner.invoke(
        app,
        [
            "train",
            "churn",
            "--table",
            str(tmp_path / "train.csv"),
            "--label",
            "churned",
            "--id",
            "customer_id",
            "--trials",
            "1",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "@champion" in trained.output
    out = tmp_path / "out" / "scores.csv"
    scored = runner.invoke(
        app, ["score", "churn", "--table", str(tmp_path / "score.parquet"), "--out", str(out)]
    )
    assert scored.exit_code == 0, scored.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["id", "probability", "score", "tier"]
    assert frame["id"].tolist() == table["customer_id"].head(40).tolist()
    assert frame["probability"].between(0, 1).all()
    assert set(frame["tier"]) <= {"high", "medium", "low"}
    assert [p.name for p in out.parent.iterdir()] == ["scores.csv"]


def test_missing_label_column_fails_naming_file_and_column(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "train.csv"
    make_table(50, seed=0).to_csv(path, index=False)
    result = runner.invoke(app, ["train", "lead", "--table", str(path), "--label", "won"])
    assert result.exit_code != 0
    assert "train.csv" in result.output and "'won'" in result.output


def test_score_without_id_column_fails(runner: CliRunner, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    make_table(600, seed=5).to_csv(tmp_path / "train.csv", index=False)
    trained = runner.invoke(
        app,
        [
            "train",
            "churn",
            "--table",
            str(tmp_path / "train.csv"),
            "--label",
            "churned",
            "--id",
            "customer_id",
            "--trials",
            "1",
            "--no-register",
            "--out-bundle",
            str(bundle),
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "not registered" in trained.output
    make_table(10, seed=6).drop(columns="customer_id").to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "o.csv"
    result = runner.invoke(
        app,
        [
            "score",
            "churn",
            "--table",
            str(tmp_path / "s.csv"),
            "--out",
            str(out),
            "--bundle",
            str(bundle),
        ],
    )
    assert result.exit_code != 0
    assert "s.csv" in result.output and "'customer_id'" in result.output
    assert not out.exists()
