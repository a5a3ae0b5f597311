"""B2B leads: source, firmographics and engagement drive conversion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.config import DAY
from training.synth.population import REGIONS

SOURCES = ("web", "referral", "event", "partner", "outbound")
SOURCE_P = (0.4, 0.1, 0.12, 0.13, 0.25)
SOURCE_EFFECT = np.array([0.0, 1.6, -0.4, -0.7, -1.4])
INDUSTRIES = (
    "software",
    "retail",
    "manufacturing",
    "finance",
    "healthcare",
    "education",
    "logistics",
    "media",
)
INDUSTRY_EFFECT = np.array([0.4, 0.1, -0.2, 0.3, 0.0, -0.5, -0.1, -0.3])
MIN_LEADS = 200


@dataclass(frozen=True)
class Leads:
    """Lead rows as parallel arrays; converted_at is -1 where not converted."""

    created: np.ndarray
    source: np.ndarray
    industry: np.ndarray
    company_size: np.ndarray
    region: np.ndarray
    email_opens: np.ndarray
    web_visits: np.ndarray
    content_downloads: np.ndarray
    meetings: np.ndarray
    converted: np.ndarray
    converted_at: np.ndarray


def n_leads(customers: int) -> int:
    """About half a lead per customer, at least MIN_LEADS."""
    return max(MIN_LEADS, customers // 2)


def simulate_leads(rng: np.random.Generator, n: int, start: int, end: int) -> Leads:
    """`n` leads created over [start, end), sorted by creation time."""
    created = np.sort(start + (rng.random(n) * (end - start)).astype(np.int64))
    source = rng.choice(len(SOURCES), n, p=SOURCE_P)
    industry = rng.integers(0, len(INDUSTRIES), n)
    size = np.maximum(1, np.round(rng.lognormal(np.log(60.0), 1.3, n))).astype(np.int64)
    # latent interest, higher for warm sources, shows in engagement
    interest = rng.normal(0.0, 1.0, n) + 0.3 * SOURCE_EFFECT[source]
    opens = rng.poisson(np.exp(1.0 + 0.45 * interest))
    visits = rng.poisson(np.exp(1.2 + 0.5 * interest))
    downloads = rng.poisson(np.exp(-0.6 + 0.6 * interest))
    meetings = rng.poisson(np.exp(-1.3 + 0.7 * interest))
    logit = (
        -1.9
        + SOURCE_EFFECT[source]
        + INDUSTRY_EFFECT[industry]
        + 0.08 * np.minimum(opens, 15)
        + 0.05 * np.minimum(visits, 20)
        + 0.25 * np.minimum(downloads, 5)
        + 0.6 * np.minimum(meetings, 4)
        + 0.15 * (np.log(size) - np.log(60.0))
    )
    will = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    when = created + (rng.uniform(1.0, 90.0, n) * DAY).astype(np.int64)
    converted = will & (when < end)  # leads created near the end have not converted yet
    region = np.where(rng.random(n) < 0.05, -1, rng.integers(0, len(REGIONS), n))
    return Leads(
        created,
        source,
        industry,
        size,
        region,
        opens,
        visits,
        downloads,
        meetings,
        converted,
        np.where(converted, when, -1),
    )
