"""Reasons for a tabular score: per-feature log-odds contributions turned into sentences.

A positive contribution raises the probability ("reason up"), a negative one lowers it
("reason down"). Sentences come from the bundle's `feature_text` templates, where `{value}`
is the entity's value; categoricals without a template read "source: referral" and any other
feature falls back to "<feature> = <value>".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

CATEGORICAL = "categorical"
BOOL = "bool"
NUMERIC = "numeric"


@dataclass(frozen=True)
class Reason:
    """One feature's push on a score, in the words of the data."""

    feature: str
    value: Any
    contribution: float
    text: str


def is_missing(value: Any) -> bool:
    """None, NaN and pandas' NA count as missing."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)  # NaN-like objects (pd.NA raises TypeError)
    except (TypeError, ValueError):
        return True


def reason_text(feature: str, kind: str, value: Any, template: str | None) -> str:
    """The sentence for one feature value; never raises on a bad template or value."""
    if is_missing(value):
        return f"{feature} unknown"
    if kind == BOOL:
        flag = bool(value)
        if template and "{value" not in template:
            return template if flag else f"not: {template}"
        value = flag
    if template:
        try:
            return template.format(value=value)
        except (ValueError, TypeError, KeyError, IndexError):
            pass
    if kind == CATEGORICAL:
        return f"{feature}: {value}"
    if isinstance(value, float):
        return f"{feature} = {value:g}"
    return f"{feature} = {value}"


def top_reasons(
    contributions: np.ndarray,
    values: list[Any],
    names: list[str],
    kinds: list[str],
    templates: dict[str, str],
    top: int,
) -> tuple[list[Reason], list[Reason]]:
    """The `top` strongest positive and negative contributions of one row.

    Args:
        contributions: Log-odds contribution per feature (bias excluded), shape (n_features,).
        values: The row's raw values, aligned with `names`.
        names: Feature names.
        kinds: "numeric", "bool" or "categorical" per feature.
        templates: feature -> sentence template with `{value}`.
        top: How many reasons each way.

    Returns:
        (reasons_up, reasons_down), strongest first.
    """
    order = np.argsort(-contributions, kind="stable")
    up = [i for i in order[:top] if contributions[i] > 0]
    down = [i for i in order[::-1][:top] if contributions[i] < 0]

    def make(i: int) -> Reason:
        text = reason_text(names[i], kinds[i], values[i], templates.get(names[i]))
        value = None if is_missing(values[i]) else values[i]
        return Reason(names[i], value, float(contributions[i]), text)

    return [make(int(i)) for i in up], [make(int(i)) for i in down]
