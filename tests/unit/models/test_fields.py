"""Inline records checked against a model's own feature specs (models.scoring.fields)."""

from __future__ import annotations

from typing import Any

import pytest

from models.scoring.fields import check_record, example_record, record_schema
from models.scoring.specs import FeatureSpec

SPECS = [
    FeatureSpec("age", "numeric", example=41.0),
    FeatureSpec("has records", "bool"),
    FeatureSpec("home", "categorical", ("owner", "rent")),
]
IDS = ("lead_id", "app_id")


def problems(record: Any) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in check_record(record, SPECS, IDS)]


def test_a_record_of_the_models_own_fields_passes() -> None:
    assert problems({"lead_id": "L1", "age": 30, "has records": True, "home": "owner"}) == []
    assert problems({"app_id": 7, "age": 30.5, "home": "houseboat"}) == []  # unseen: scored
    assert problems({"age": None}) == []  # null = unknown


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"industry": "retail"}, "industry", "unknown field 'industry'"),
        ({"age": "forty"}, "age", "expected a number"),
        ({"age": True}, "age", "expected a number"),  # a bool is not a number
        ({"age": 10**400}, "age", "finite number"),
        ({"has records": 1}, "has records", "expected a boolean"),
        ({"home": 3}, "home", "known: owner, rent"),
        ({"home": "x" * 201}, "home", "at most 200"),
        ({"lead_id": ["a"]}, "lead_id", "expected a string"),
    ],
)
def test_each_problem_names_its_field_and_the_type(
    record: dict[str, Any], field: str, words: str
) -> None:
    (found,) = problems(record)
    assert found[0] == field and words in found[1]


def test_problems_locate_the_record_in_a_batch() -> None:
    (problem,) = check_record({"age": "x"}, SPECS, IDS, index=3)
    assert problem.as_error()["loc"] == ["body", "leads", 3, "age"]
    assert check_record([1], SPECS, IDS, 0)[0].kind == "object_type"


def test_the_schema_and_example_come_from_the_specs() -> None:
    schema = record_schema(SPECS, IDS, "t")
    assert list(schema["properties"]) == ["lead_id", "app_id", "age", "has records", "home"]
    assert schema["properties"]["home"]["examples"] == ["owner", "rent"]
    assert schema["additionalProperties"] is False
    assert example_record(SPECS) == {"age": 41.0, "has records": False, "home": "owner"}
    assert problems(example_record(SPECS)) == []
