"""Customers: signup, region, channel, referrals, taste, price tier, activity and lifecycle.

The population is built at once (a few small arrays per customer, ~100 MB at 1M customers);
the heavy part, their events, is simulated chunk by chunk in `behaviour`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.config import DAY

REGIONS = ("north", "south", "east", "west", "central")
REGION_P = (0.25, 0.2, 0.2, 0.25, 0.1)
CHANNELS = ("organic", "paid_search", "social", "email", "affiliate", "referral")
CHANNEL_P = (0.3, 0.25, 0.2, 0.1, 0.15)  # referral is set by referred_by only
REFERRAL_SHARE = 0.10
N_CLUSTERS = 12
CHURN_P = 0.32
CHURN_P_REFERRED = 0.2
CANCEL_SHARE = 0.4
DECLINE_FLOOR = 0.05  # activity at the moment of churn, relative to before the decline


@dataclass(frozen=True)
class Population:
    """Per-customer arrays, indexed by customer position (ids are assigned in signup order)."""

    signup: np.ndarray  # int64 seconds, strictly increasing
    region: np.ndarray
    channel: np.ndarray
    referred_by: np.ndarray  # position of the referrer or -1
    cluster: np.ndarray
    favourite: np.ndarray  # a personal favourite category
    tier_pref: np.ndarray  # 0 budget, 1 standard, 2 premium
    rate_max: np.ndarray  # sessions per day at the customer's peak
    growth: np.ndarray  # >= 0 for non-churners; 0 for churners
    active_lo: np.ndarray  # first moment of activity inside the window
    active_hi: np.ndarray  # churn moment, or the window end
    churned: np.ndarray
    decline_s: np.ndarray  # length of the pre-churn decline in seconds
    cancelled_at: np.ndarray  # int64 seconds or -1
    cluster_cdf: np.ndarray  # (N_CLUSTERS, n_categories)
    start: int
    end: int

    @property
    def size(self) -> int:
        """Number of customers."""
        return int(self.signup.size)

    def intensity(self, cust: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Activity at time `t` relative to the customer's peak, in [0, 1]; 0 when not active.

        Non-churners grow linearly over the window; churners are flat, then decline linearly to
        DECLINE_FLOOR over their last `decline_s` seconds, then stop.
        """
        frac = (t - self.start) / float(self.end - self.start)
        g = self.growth[cust]
        level = (1.0 + g * frac) / (1.0 + g)
        hi = self.active_hi[cust]
        dec_start = hi - self.decline_s[cust]
        into = np.clip((t - dec_start) / np.maximum(self.decline_s[cust], 1), 0.0, 1.0)
        level = np.where(self.churned[cust], 1.0 - (1.0 - DECLINE_FLOOR) * into, level)
        inside = (t >= self.active_lo[cust]) & (t < hi)
        return np.where(inside, level, 0.0)


def build_population(
    rng: np.random.Generator, n: int, n_categories: int, start: int, end: int
) -> Population:
    """Draw `n` customers for the window [start, end)."""
    signup = _signups(rng, n, start, end)
    referred_by = np.full(n, -1, dtype=np.int64)
    is_ref = rng.random(n) < REFERRAL_SHARE
    is_ref[0] = False
    idx = np.flatnonzero(is_ref)
    referred_by[idx] = (rng.random(idx.size) * idx).astype(np.int64)  # an earlier customer
    channel = rng.choice(len(CHANNEL_P), size=n, p=CHANNEL_P)
    channel[is_ref] = CHANNELS.index("referral")
    activity = rng.lognormal(np.log(0.008), 0.8, n) * np.where(is_ref, 1.5, 1.0)
    active_lo = np.maximum(signup, start)
    churned, active_hi, decline = _churn(rng, is_ref, active_lo, end)
    growth = np.where(churned, 0.0, rng.uniform(0.0, 0.8, n))
    cancel = churned & (rng.random(n) < CANCEL_SHARE)
    cancelled_at = np.where(
        cancel, np.minimum(active_hi + (rng.random(n) * 3 * DAY).astype(np.int64), end - 1), -1
    )
    return Population(
        signup=signup,
        region=rng.choice(len(REGIONS), size=n, p=REGION_P),
        channel=channel,
        referred_by=referred_by,
        cluster=rng.integers(0, N_CLUSTERS, n),
        favourite=rng.integers(0, n_categories, n),
        tier_pref=rng.choice(3, size=n, p=[0.35, 0.45, 0.2]),
        rate_max=activity * (1.0 + growth),
        growth=growth,
        active_lo=active_lo,
        active_hi=active_hi,
        churned=churned,
        decline_s=decline,
        cancelled_at=cancelled_at,
        cluster_cdf=_clusters(rng, n_categories),
        start=start,
        end=end,
    )


def _signups(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """15% before the window (up to a year), the rest inside it with mild growth; sorted."""
    span = end - start
    before = rng.random(n) < 0.15
    u = rng.random(n)
    inside = np.where(rng.random(n) < 0.5, u, np.sqrt(u)) * (span - DAY)
    raw = np.where(before, start - rng.random(n) * 365 * DAY, start + inside).astype(np.int64)
    ranks = np.arange(n, dtype=np.int64)
    # strictly increasing, so "earlier customer" is the same as "smaller position"
    return np.maximum.accumulate(np.sort(raw) - ranks) + ranks


def _churn(
    rng: np.random.Generator, is_ref: np.ndarray, active_lo: np.ndarray, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who churns, when (at least 60 days after becoming active) and how long they decline."""
    n = is_ref.size
    lo = active_lo + 60 * DAY
    can = lo < end - DAY
    churned = can & (rng.random(n) < np.where(is_ref, CHURN_P_REFERRED, CHURN_P))
    when = lo + (rng.random(n) * np.maximum(end - DAY - lo, 0)).astype(np.int64)
    active_hi = np.where(churned, when, end).astype(np.int64)
    decline = (rng.uniform(60, 90, n) * DAY).astype(np.int64)
    return churned, active_hi, decline


def _clusters(rng: np.random.Generator, n_categories: int) -> np.ndarray:
    """Taste clusters: each a distribution concentrated on 3 categories (as a CDF)."""
    probs = np.zeros((N_CLUSTERS, n_categories))
    for k in range(N_CLUSTERS):
        cats = rng.choice(n_categories, size=3, replace=False)
        probs[k, cats] = rng.dirichlet(np.full(3, 2.0))
    return np.cumsum(probs, axis=1)
