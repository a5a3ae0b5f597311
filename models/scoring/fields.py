"""A tabular model's fields as an API sees them: JSON types, validation, a schema and an example.

Inline records (a lead posted to the service) are named as the columns of the training table.
Their checks come from the bundle's feature specs, so any model - the demo world's or one
trained on a CRM export - is served on its own fields: a numeric feature takes a JSON number
(never a boolean), a boolean one `true`/`false`, a categorical one a string. Absent or null
fields are scored as unknown; unseen categories are scored as unknown too (and reported).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from models.scoring.reasons import BOOL, CATEGORICAL
from models.scoring.specs import FeatureSpec

JSON_TYPES = {BOOL: "boolean", CATEGORICAL: "string"}  # anything else: "number"
MAX_TEXT = 200
EXAMPLE_CATEGORIES = 20  # known categories listed in an error message


def json_type(spec: FeatureSpec) -> str:
    """The JSON type a field of this spec takes."""
    return JSON_TYPES.get(spec.kind, "number")


@dataclass(frozen=True)
class Problem:
    """One invalid field of one record: where (record index, field), what and the value."""

    index: int | None
    field: str
    message: str
    kind: str
    value: Any = None

    def as_error(self, batch_key: str = "leads") -> dict[str, Any]:
        """The problem in FastAPI's validation-error shape (`loc`, `msg`, `type`, `input`)."""
        loc: list[str | int] = ["body"]
        if self.index is not None:
            loc += [batch_key, self.index]
        return {
            "loc": [*loc, self.field],
            "msg": self.message,
            "type": self.kind,
            "input": self.value,
        }


MAX_ID = 10**18 - 1  # integer ids beyond this are refused (and documented so)


def check_record(
    record: Any, specs: list[FeatureSpec], id_fields: tuple[str, ...], index: int | None = None
) -> list[Problem]:
    """Every problem of one inline record; [] when it can be scored."""
    if not isinstance(record, dict):
        return [Problem(index, "", "expected a JSON object of fields", "object_type", record)]
    by_name = {s.name: s for s in specs}
    problems = []
    for name, value in record.items():
        if name in id_fields:
            if value is not None and not _is_id(value):
                message = f"expected a string of at most {MAX_TEXT} characters or an integer"
                problems.append(Problem(index, name, message, "id_type", value))
        elif name not in by_name:
            allowed = ", ".join([*id_fields[:1], *by_name])
            message = f"unknown field {name!r}; this model takes: {allowed}"
            problems.append(Problem(index, name, message, "unknown_field", value))
        elif value is not None and (wrong := _type_problem(value, by_name[name])):
            problems.append(Problem(index, name, wrong, f"{json_type(by_name[name])}_type", value))
    return problems


def _type_problem(value: Any, spec: FeatureSpec) -> str | None:
    """Why `value` does not fit `spec`, or None when it does."""
    if spec.kind == BOOL:
        return None if isinstance(value, bool) else "expected a boolean (true or false)"
    if spec.kind == CATEGORICAL:
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return None
        known = ", ".join(spec.categories[:EXAMPLE_CATEGORIES])
        more = ", ..." if len(spec.categories) > EXAMPLE_CATEGORIES else ""
        return f"expected a string of at most {MAX_TEXT} characters (known: {known}{more})"
    # bool is an int in Python: `true` is not a count of anything.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "expected a number"
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    return None if finite else "expected a finite number (within the float range)"


def _is_id(value: Any) -> bool:
    if isinstance(value, str):
        return 0 < len(value) <= MAX_TEXT
    if isinstance(value, float):  # JSON Schema counts 401600.0 as an integer too
        return value.is_integer() and abs(value) <= MAX_ID
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_ID


def example_record(specs: list[FeatureSpec]) -> dict[str, Any]:
    """A record of typical training values (for docs): median, most frequent category, mode."""
    out: dict[str, Any] = {}
    for spec in specs:
        value = spec.example
        if value is None:  # bundles trained before examples were stored
            value = {BOOL: False, CATEGORICAL: next(iter(spec.categories), "")}.get(spec.kind, 0)
        out[spec.name] = value
    return out


def field_schema(spec: FeatureSpec) -> dict[str, Any]:
    """The JSON schema of one field; categoricals list their known categories (not an enum:
    unseen values are accepted and scored as unknown)."""
    schema: dict[str, Any] = {"type": [json_type(spec), "null"], "title": spec.name}
    if spec.kind == CATEGORICAL:
        schema["maxLength"] = MAX_TEXT
        schema["examples"] = list(spec.categories[:EXAMPLE_CATEGORIES])
        schema["description"] = (
            f"Known categories: {', '.join(spec.categories)}. Other values are scored as "
            "unknown and listed in `unseen_categories`."
        )
    elif spec.kind == BOOL:
        schema["description"] = "true or false."
    else:
        schema["description"] = "A finite number (a boolean is not accepted)."
    return schema


def record_schema(
    specs: list[FeatureSpec], id_fields: tuple[str, ...], title: str
) -> dict[str, Any]:
    """The JSON schema of one inline record: the id field(s) plus every feature, all optional."""
    # Exactly what `_is_id` accepts: a non-empty string up to MAX_TEXT, an integer under 1e18.
    id_schema = {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            {"type": "integer", "minimum": -MAX_ID, "maximum": MAX_ID},
            {"type": "null"},
        ]
    }
    properties: dict[str, Any] = {name: {**id_schema, "title": name} for name in id_fields}
    properties.update({s.name: field_schema(s) for s in specs})
    return {
        "title": title,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "example": {id_fields[0]: "L-1", **example_record(specs)},
    }
