"""Weighted tag rules: the grammar, evaluation, and errors that name the tag and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.settings import PROJECT_ROOT
from training.value.job import VALUE_COLUMNS
from training.value.tags import TagConfigError, apply_tags, load_tags, parse_tags

FRAME = pd.DataFrame(
    {
        "p_alive": [0.9, 0.2, np.nan, 0.6],
        "segment": ["champions", "at risk", "prospect", "loyal"],
        "total_value": [1000.0, 50.0, 0.0, 300.0],
    },
    index=["a", "b", "c", "d"],
).astype({"segment": "string"})


def _tag(name: str, rule: object, weight: float = 1.0) -> dict:
    return {"name": name, "weight": weight, "rule": rule}


def test_conditions_combinations_and_weights() -> None:
    tags = parse_tags(
        {
            "tags": [
                _tag("active", {"feature": "p_alive", "op": ">=", "value": 0.5}, 2),
                _tag(
                    "core", {"feature": "segment", "op": "in", "value": ["champions", "loyal"]}, 1.5
                ),
                _tag(
                    "risky_or_small",
                    {
                        "any": [
                            {"feature": "segment", "op": "==", "value": "at risk"},
                            {
                                "all": [
                                    {"feature": "total_value", "op": "<", "value": 400},
                                    {"feature": "p_alive", "op": "!=", "value": 0.2},
                                ]
                            },
                        ]
                    },
                    -1,
                ),
                _tag(
                    "not_core", {"feature": "segment", "op": "not in", "value": ["champions"]}, 0.5
                ),
            ]
        }
    )
    out = apply_tags(FRAME, tags)
    assert out.loc["a", "tags"] == ["active", "core"] and out.loc["a", "tag_score"] == 3.5
    assert out.loc["b", "tags"] == ["risky_or_small", "not_core"]
    # A missing p_alive matches neither ">=" nor "!=".
    assert out.loc["c", "tags"] == ["not_core"] and out.loc["c", "tag_score"] == 0.5
    assert out.loc["d", "tags"] == ["active", "core", "risky_or_small", "not_core"]
    assert out.loc["d", "tag_score"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (_tag("t", {"feature": "p_alive", "op": "=>", "value": 1}), "tag 't': rule.op: unknown"),
        (_tag("t", {"feature": "segment", "op": "in", "value": "loyal"}), "tag 't': rule.value"),
        (_tag("t", {"feature": "p_alive", "op": ">", "value": "high"}), "needs a number"),
        (
            _tag(
                "t",
                {
                    "all": [
                        {"feature": "p_alive", "op": ">", "value": 1},
                        {"feature": "x", "op": ">"},
                    ]
                },
            ),
            "tag 't': rule.all[1]",
        ),
        (_tag("t", {"all": []}), "rule.all: must be a non-empty list"),
        ({"name": "t", "rule": {"feature": "p_alive", "op": ">", "value": 1}}, "tag 't': weight"),
        (_tag("t", {"feature": "p_alive", "op": ">", "value": 1}, float("nan")), "tag 't': weight"),
        ({"weight": 1, "rule": {}}, "tags[0]: name"),
        (
            {**_tag("t", {"feature": "p_alive", "op": ">", "value": 1}), "colour": 1},
            "unknown field",
        ),
    ],
)
def test_invalid_config_names_tag_and_field(tag: dict, message: str) -> None:
    with pytest.raises(TagConfigError) as err:
        parse_tags({"tags": [tag]})
    assert message in str(err.value)


def test_duplicate_names_and_bad_top_level() -> None:
    rule = {"feature": "p_alive", "op": ">", "value": 0}
    with pytest.raises(TagConfigError, match="tag 'x': name: duplicate"):
        parse_tags({"tags": [_tag("x", rule), _tag("x", rule)]})
    with pytest.raises(TagConfigError, match="'tags' list"):
        parse_tags([1, 2])


def test_unknown_feature_and_bad_comparison_at_apply_time() -> None:
    unknown = parse_tags({"tags": [_tag("u", {"feature": "ltv", "op": ">", "value": 1})]})
    with pytest.raises(TagConfigError, match=r"tag 'u': unknown feature\(s\) \['ltv'\]"):
        apply_tags(FRAME, unknown)
    text_vs_number = parse_tags(
        {"tags": [_tag("s", {"feature": "segment", "op": ">", "value": 3})]}
    )
    with pytest.raises(TagConfigError, match="tag 's': cannot evaluate"):
        apply_tags(FRAME, text_vs_number)


def test_yaml_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tags.yaml"
    path.write_text(
        "tags:\n  - name: big\n    weight: one\n    rule: {feature: m, op: '>', value: 1}\n"
    )
    with pytest.raises(TagConfigError, match=r"tags.yaml: tag 'big': weight"):
        load_tags(path)
    path.write_text("tags: [unclosed\n")
    with pytest.raises(TagConfigError, match="cannot read"):
        load_tags(path)


def test_default_config_is_valid_and_reads_value_table_columns() -> None:
    tags = load_tags(PROJECT_ROOT / "config" / "tags.yaml")
    assert len(tags) >= 5
    row = {c: 0 for c in VALUE_COLUMNS} | {
        "value_tier": "high",
        "p_alive": 0.8,
        "segment": "champions",
        "m_score": 5,
    }
    out = apply_tags(pd.DataFrame([row]), tags)
    assert {"vip", "loyal_core", "big_basket"} <= set(out.loc[0, "tags"])


@pytest.mark.parametrize("n_tags", [3, 70])  # 70: more tags than one integer key holds
def test_rows_get_their_own_lists_in_config_order(n_tags: int) -> None:
    frame = pd.DataFrame({"v": [5.0, 0.0, 5.0, 69.0, np.nan]})
    tags = parse_tags(
        {"tags": [_tag(f"t{i}", {"feature": "v", "op": ">=", "value": i}) for i in range(n_tags)]}
    )
    out = apply_tags(frame, tags)
    for value, names in zip(frame["v"], out["tags"], strict=True):
        assert names == [f"t{i}" for i in range(n_tags) if value >= i]
    assert out["tags"][0] == out["tags"][2] and out["tags"][0] is not out["tags"][2]
    assert out["tag_score"].tolist() == [len(names) for names in out["tags"]]
