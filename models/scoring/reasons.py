"""Reasons for a tabular score: per-feature log-odds contributions turned into sentences.

A positive contribution raises the probability ("reason up"), a negative one lowers it
("reason down"); every sentence ends with that direction, e.g. "no purchase for 1 day (lowers
churn risk)", so a reason that runs against intuition still reads true. Sentences come from the
bundle's `feature_text` templates: `{value}` is the entity's value, `{singular|plural}` picks a
word form by the value ("referred {value:.0f} customer{|s}"), and a boolean's template may give
its false form after a `|` ("came through a referral|not referred"). Categoricals without a
template read "source: referral" and any other feature falls back to "<feature> = <value>".
"""

from __future__ import annotations

import math
import re
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


# `{singular|plural}` inside a template; format fields never contain "|".
_PLURAL = re.compile(r"\{([^{}|:]*)\|([^{}|:]*)\}")


def reason_text(feature: str, kind: str, value: Any, template: str | None) -> str:
    """The sentence for one feature value (without direction); never raises."""
    if is_missing(value):
        return f"{feature} unknown"
    if kind == BOOL:
        return _bool_text(feature, bool(value), template)
    if template:
        try:
            return _PLURAL.sub(_form(value), template).format(value=value)
        except (ValueError, TypeError, KeyError, IndexError):
            pass
    if kind == CATEGORICAL:
        return f"{feature}: {value}"
    if isinstance(value, float):
        return f"{feature} = {value:g}"
    return f"{feature} = {value}"


def _bool_text(feature: str, flag: bool, template: str | None) -> str:
    if not template:
        return f"{feature}: {'yes' if flag else 'no'}"
    if "{value" not in template:
        yes, _, no = template.partition("|")
        return yes if flag else (no or f"not {yes}")
    try:
        return template.format(value=flag)
    except (ValueError, TypeError, KeyError, IndexError):
        return f"{feature}: {'yes' if flag else 'no'}"


def _form(value: Any) -> Any:
    """The replacement of `{singular|plural}`: singular when the value is (about) one."""
    try:
        one = round(abs(float(value))) == 1  # as "{value:.0f}" shows it
    except (TypeError, ValueError, OverflowError):
        one = False
    return lambda match: match.group(1) if one else match.group(2)


def with_direction(text: str, contribution: float, target: str) -> str:
    """The sentence with the way it pushes the score: "... (raises churn risk)"."""
    return f"{text} ({'raises' if contribution > 0 else 'lowers'} {target})"


def top_reasons(
    contributions: np.ndarray,
    values: list[Any],
    names: list[str],
    kinds: list[str],
    templates: dict[str, str],
    top: int,
    target: str = "the score",
) -> tuple[list[Reason], list[Reason]]:
    """The `top` strongest positive and negative contributions of one row.

    Args:
        contributions: Log-odds contribution per feature (bias excluded), shape (n_features,).
        values: The row's raw values, aligned with `names`.
        names: Feature names.
        kinds: "numeric", "bool" or "categorical" per feature.
        templates: feature -> sentence template with `{value}`.
        top: How many reasons each way.
        target: What the score is, for the direction ("churn risk", "conversion chance").

    Returns:
        (reasons_up, reasons_down), strongest first.
    """
    order = np.argsort(-contributions, kind="stable")
    up = [(int(i), float(contributions[i])) for i in order[:top] if contributions[i] > 0]
    down = [(int(i), float(contributions[i])) for i in order[::-1][:top] if contributions[i] < 0]
    return (
        reasons_at(up, values, names, kinds, templates, target),
        reasons_at(down, values, names, kinds, templates, target),
    )


def reasons_at(
    picks: list[tuple[int, float]],
    values: list[Any],
    names: list[str],
    kinds: list[str],
    templates: dict[str, str],
    target: str = "the score",
) -> list[Reason]:
    """The reasons of picked (feature index, contribution) pairs, in their order."""
    out = []
    for i, c in picks:
        text = reason_text(names[i], kinds[i], values[i], templates.get(names[i]))
        value = None if is_missing(values[i]) else values[i]
        out.append(Reason(names[i], value, c, with_direction(text, c, target)))
    return out
