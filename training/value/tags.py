"""Weighted customer tags from a small, safe rule grammar (no eval).

A config is a mapping with a `tags` list. Each tag has a `name`, a numeric `weight`, an
optional `description` and a `rule`. A rule is either a condition
`{feature: F, op: OP, value: V}` with OP in >, >=, <, <=, ==, !=, in, not in, or a combination
`{all: [rule, ...]}` / `{any: [rule, ...]}` (nestable). Every customer gets the list of tags
whose rule matches and the sum of their weights. A missing feature value never matches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

COMPARISONS = (">", ">=", "<", "<=")
OPERATORS = (*COMPARISONS, "==", "!=", "in", "not in")
Scalar = str | int | float | bool


class TagConfigError(ValueError):
    """A tag config is invalid, or a rule cannot be evaluated on the given features."""


@dataclass(frozen=True)
class Condition:
    """`feature op value`."""

    feature: str
    op: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Combination:
    """`all` (and) or `any` (or) of sub-rules."""

    kind: str
    rules: tuple[Condition | Combination, ...]


Rule = Condition | Combination


@dataclass(frozen=True)
class Tag:
    """One weighted tag."""

    name: str
    weight: float
    rule: Rule
    description: str = ""


def load_tags(path: Path | str) -> list[Tag]:
    """Read and validate a YAML tag config; errors name the file, tag and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TagConfigError(f"{path}: cannot read tag config: {exc}") from exc
    try:
        return parse_tags(data)
    except TagConfigError as exc:
        raise TagConfigError(f"{path}: {exc}") from exc


def parse_tags(config: Any) -> list[Tag]:
    """Validate a parsed config (`{"tags": [...]}`) into `Tag`s."""
    if not isinstance(config, Mapping) or not isinstance(config.get("tags"), list):
        raise TagConfigError("config must be a mapping with a 'tags' list")
    tags: list[Tag] = []
    seen: set[str] = set()
    for i, entry in enumerate(config["tags"]):
        tag = _parse_tag(entry, i)
        if tag.name in seen:
            raise TagConfigError(f"tag {tag.name!r}: name: duplicate tag name")
        seen.add(tag.name)
        tags.append(tag)
    return tags


def _parse_tag(entry: Any, index: int) -> Tag:
    if not isinstance(entry, Mapping):
        raise TagConfigError(f"tags[{index}]: must be a mapping with name, weight and rule")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TagConfigError(f"tags[{index}]: name: must be a non-empty string")
    unknown = set(entry) - {"name", "weight", "rule", "description"}
    if unknown:
        raise TagConfigError(f"tag {name!r}: unknown field(s) {sorted(unknown)}")
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
        raise TagConfigError(f"tag {name!r}: weight: must be a finite number, got {weight!r}")
    if "rule" not in entry:
        raise TagConfigError(f"tag {name!r}: rule: missing")
    rule = _parse_rule(entry["rule"], name, "rule")
    return Tag(name, float(weight), rule, str(entry.get("description", "")))


def _parse_rule(node: Any, tag: str, where: str) -> Rule:
    if not isinstance(node, Mapping):
        raise TagConfigError(f"tag {tag!r}: {where}: must be a mapping")
    if set(node) in ({"all"}, {"any"}):
        kind = next(iter(node))
        items = node[kind]
        if not isinstance(items, list) or not items:
            raise TagConfigError(f"tag {tag!r}: {where}.{kind}: must be a non-empty list")
        subs = tuple(_parse_rule(sub, tag, f"{where}.{kind}[{i}]") for i, sub in enumerate(items))
        return Combination(kind, subs)
    if set(node) != {"feature", "op", "value"}:
        raise TagConfigError(
            f"tag {tag!r}: {where}: expected keys feature/op/value or a single "
            f"all/any, got {sorted(map(str, node))}"
        )
    return _parse_condition(node, tag, where)


def _parse_condition(node: Mapping[str, Any], tag: str, where: str) -> Condition:
    feature, op, value = node["feature"], node["op"], node["value"]
    if not isinstance(feature, str) or not feature:
        raise TagConfigError(f"tag {tag!r}: {where}.feature: must be a non-empty string")
    if op not in OPERATORS:
        raise TagConfigError(
            f"tag {tag!r}: {where}.op: unknown operator {op!r}; use one of {list(OPERATORS)}"
        )
    if op in ("in", "not in"):
        if not isinstance(value, list) or not value or not all(_is_scalar(v) for v in value):
            raise TagConfigError(
                f"tag {tag!r}: {where}.value: {op!r} needs a non-empty list of numbers or strings"
            )
        return Condition(feature, op, tuple(value))
    if op in COMPARISONS and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise TagConfigError(f"tag {tag!r}: {where}.value: {op!r} needs a number, got {value!r}")
    if not _is_scalar(value):
        raise TagConfigError(f"tag {tag!r}: {where}.value: must be a number, string or bool")
    return Condition(feature, op, value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def features_used(rule: Rule) -> set[str]:
    """All feature names a rule reads."""
    if isinstance(rule, Condition):
        return {rule.feature}
    return set().union(*(features_used(r) for r in rule.rules))


def evaluate_rule(rule: Rule, frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows of `frame` matching `rule` (missing values never match)."""
    if isinstance(rule, Combination):
        masks = [evaluate_rule(sub, frame) for sub in rule.rules]
        reduce = np.logical_and if rule.kind == "all" else np.logical_or
        return np.asarray(reduce.reduce(masks, axis=0), dtype=bool)
    column = frame[rule.feature]
    present = column.notna().to_numpy(dtype=bool)
    if rule.op in ("in", "not in"):
        hit = column.isin(list(rule.value) if isinstance(rule.value, tuple) else [rule.value])
        mask = hit.to_numpy(dtype=bool, na_value=False)
        return (mask if rule.op == "in" else ~mask) & present
    ops = {
        ">": column.gt,
        ">=": column.ge,
        "<": column.lt,
        "<=": column.le,
        "==": column.eq,
        "!=": column.ne,
    }
    value = rule.value
    if isinstance(value, tuple):  # parse_tags only builds tuples for in / not in
        raise TagConfigError(f"operator {rule.op!r} cannot take a list")
    result = ops[rule.op](value)
    return result.to_numpy(dtype=bool, na_value=False) & present


def apply_tags(frame: pd.DataFrame, tags: Sequence[Tag]) -> pd.DataFrame:
    """Evaluate `tags` on each row of `frame`.

    Returns:
        A frame indexed like `frame` with `tags` (list of matching tag names, config order)
        and `tag_score` (sum of their weights).

    Raises:
        TagConfigError: naming the tag when it reads an unknown feature or cannot compare.
    """
    score = np.zeros(len(frame))
    masks = []
    for tag in tags:
        missing = sorted(features_used(tag.rule) - set(frame.columns))
        if missing:
            raise TagConfigError(
                f"tag {tag.name!r}: unknown feature(s) {missing}; "
                f"available: {sorted(map(str, frame.columns))}"
            )
        try:
            mask = evaluate_rule(tag.rule, frame)
        except TypeError as exc:
            raise TagConfigError(f"tag {tag.name!r}: cannot evaluate rule: {exc}") from exc
        score += np.where(mask, tag.weight, 0.0)
        masks.append(mask)
    # Customers fall into a few distinct sets of matching tags: name each set once, then give
    # every row its own copy of its set's list (no per-customer, per-tag Python loop).
    matched, which = _distinct_matches(masks, len(frame))
    sets = [[tag.name for tag, hit in zip(tags, row, strict=True) if hit] for row in matched]
    names = [sets[i].copy() for i in which.tolist()]
    return pd.DataFrame(
        {"tags": pd.Series(names, index=frame.index, dtype="object"), "tag_score": score},
        index=frame.index,
    )


def _distinct_matches(masks: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the (row x tag) match matrix, and each row's index among them."""
    matrix = np.column_stack(masks) if masks else np.zeros((n, 0), dtype=bool)
    if matrix.shape[1] <= 63:  # one integer per row: a fast 1-d unique
        key = matrix.astype(np.int64) @ (np.int64(1) << np.arange(matrix.shape[1], dtype=np.int64))
        _, first, which = np.unique(key, return_index=True, return_inverse=True)
    else:
        _, first, which = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
    return matrix[first], which.reshape(-1)
