"""The promotion gate's verdict (the registry side is in tests/integration/test_promotion.py)."""

from __future__ import annotations

from training.registry import CHALLENGER, CHAMPION, decide_promotion


def test_first_model_is_champion() -> None:
    verdict = decide_promotion("auc", 0.6, None, None)
    assert verdict.alias == CHAMPION and verdict.reason == "first model"


def test_worse_than_champion_is_challenger() -> None:
    verdict = decide_promotion("auc", 0.80, 0.85, "3")
    assert verdict.alias == CHALLENGER and verdict.champion_version == "3"
    assert "0.8000" in verdict.reason and "0.8500" in verdict.reason


def test_equal_or_within_margin_is_champion() -> None:
    assert decide_promotion("auc", 0.85, 0.85, "3").alias == CHAMPION
    assert decide_promotion("auc", 0.845, 0.85, "3", margin=0.01).alias == CHAMPION
    assert decide_promotion("auc", 0.835, 0.85, "3", margin=0.01).alias == CHALLENGER


def test_force_promotes_a_worse_model_and_says_so() -> None:
    verdict = decide_promotion("auc", 0.5, 0.85, "3", force=True)
    assert verdict.alias == CHAMPION and verdict.forced and "--force" in verdict.reason


def test_champion_that_cannot_score_the_data_is_replaced() -> None:
    verdict = decide_promotion("auc", 0.7, None, "2")
    assert verdict.alias == CHAMPION and "cannot score" in verdict.reason
