"""Support tickets: a low base rate, and a burst of unresolved, unhappy tickets before churn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.config import DAY
from training.synth.population import Population

KINDS = ("billing", "delivery", "product", "account")
BASE_PER_YEAR = 0.35
BASE_KIND_P = (0.3, 0.35, 0.25, 0.1)
BASE_RESOLVED_P = 0.92
PRE_CHURN_MEAN = 1.4
PRE_CHURN_KIND_P = (0.35, 0.2, 0.3, 0.15)
PRE_CHURN_RESOLVED_P = 0.3
ANSWER_P = 0.7


@dataclass(frozen=True)
class Tickets:
    """Ticket rows as parallel arrays; satisfaction is NaN when the customer did not answer."""

    cust: np.ndarray
    ts: np.ndarray
    kind: np.ndarray
    resolved: np.ndarray
    resolved_at: np.ndarray  # int64 seconds or -1
    satisfaction: np.ndarray


def simulate_tickets(rng: np.random.Generator, pop: Population, lo: int, hi: int) -> Tickets:
    """Tickets of customers [lo, hi), sorted by customer then time."""
    c = np.arange(lo, hi)
    span = np.maximum(pop.active_hi[c] - pop.active_lo[c], 0)
    n_base = rng.poisson(BASE_PER_YEAR * span / (365.0 * DAY))
    base_c = np.repeat(c, n_base)
    base_t = pop.active_lo[base_c] + (rng.random(base_c.size) * span[base_c - lo]).astype(np.int64)
    churners = c[pop.churned[c]]
    n_pre = rng.poisson(PRE_CHURN_MEAN, churners.size)
    pre_c = np.repeat(churners, n_pre)
    pre_t = pop.active_hi[pre_c] - (rng.random(pre_c.size) * pop.decline_s[pre_c]).astype(np.int64)
    cust = np.concatenate([base_c, pre_c])
    ts = np.concatenate([base_t, pre_t])
    pre = np.concatenate([np.zeros(base_c.size, bool), np.ones(pre_c.size, bool)])
    kind = np.where(
        pre, rng.choice(4, cust.size, p=PRE_CHURN_KIND_P), rng.choice(4, cust.size, p=BASE_KIND_P)
    )
    resolved = rng.random(cust.size) < np.where(pre, PRE_CHURN_RESOLVED_P, BASE_RESOLVED_P)
    # slow to resolve before churn; what is resolved after the window end is not resolved yet
    resolved_at = ts + (rng.exponential(np.where(pre, 6.0, 2.0)) * DAY).astype(np.int64) + 600
    resolved &= resolved_at < pop.end
    resolved_at = np.where(resolved, resolved_at, -1)
    happy = rng.choice(np.array([3.0, 4.0, 5.0]), cust.size, p=[0.15, 0.4, 0.45])
    unhappy = rng.choice(np.array([1.0, 2.0, 3.0]), cust.size, p=[0.55, 0.3, 0.15])
    score = np.where(resolved, happy, unhappy)
    satisfaction = np.where(rng.random(cust.size) < ANSWER_P, score, np.nan)
    order = np.lexsort((ts, cust))
    return Tickets(
        cust[order],
        ts[order],
        kind[order],
        resolved[order],
        resolved_at[order],
        satisfaction[order],
    )
