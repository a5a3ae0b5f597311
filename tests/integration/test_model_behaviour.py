"""Behavioural checks of the trained world models: they react to the signals CRM teams act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.customer import customer_features
from features.load import load_world
from models.champions import resolve_bundle
from models.scoring.scorer import TabularScorer
from tests.integration.conftest import World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def churn_model(world: World, tmp_path_factory: pytest.TempPathFactory) -> TabularScorer:
    bundle = resolve_bundle(
        world.settings.mlflow_tracking_uri,
        world.settings.churn_model,
        "champion",
        tmp_path_factory.mktemp("bundles"),
    )
    return TabularScorer.load(bundle.path)


def _active_customer(world: World) -> dict[str, object]:
    tables = load_world(world.data)
    as_of = tables["interactions"]["timestamp"].max()
    feats = customer_features(
        tables["customers"],
        tables["interactions"],
        tables.get("tickets"),
        tables.get("items"),
        as_of,
    )
    active = feats.loc[(feats["orders_90d"] >= 2) & (feats["unresolved_tickets"] == 0)]
    row = active.iloc[0].to_dict()
    return {k: (None if v != v else v) for k, v in row.items()}  # NaN -> None


def test_an_idle_customer_with_open_tickets_shows_those_reasons(
    world: World, churn_model: TabularScorer, tmp_path: Path
) -> None:
    active = _active_customer(world)
    idle = dict(
        active,
        recency_days=120.0,
        days_since_last_event=110.0,
        orders_90d=0.0,
        monetary_90d=0.0,
        events_30d=0.0,
        activity_trend=0.0,
        unresolved_tickets=3.0,
        tickets_90d=3.0,
        avg_satisfaction=1.0,
    )
    # The API shows the top 5 reasons each way (service.scoring.TOP_REASONS).
    before, after = churn_model.score_records([active, idle], top_reasons=5)
    assert after.probability > before.probability
    assert after.tier in {"high", "medium"}
    texts = " | ".join(r.text for r in after.reasons_up)
    assert "3 unresolved tickets" in texts or "3 support tickets" in texts, texts
    assert any(
        word in texts
        for word in (
            "no purchase for 120 days",
            "no activity for 110 days",
            "0 orders in the last 90 days",
            "activity at 0% of its earlier level",
        )
    ), texts
