"""Shopping behaviour of one chunk of customers: sessions of views -> carts -> purchases,
complements bought together or shortly after, and repeat purchases of consumables.

Everything is vectorised over events; the only Python loops run over a handful of repeat
"generations", never over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.catalogue import Catalogue
from training.synth.config import DAY
from training.synth.population import Population

VIEW, CART, PURCHASE = 0, 1, 2
VIEWS_EXTRA = 1.6  # views per session = 1 + Poisson(VIEWS_EXTRA)
CART_P = 0.25
BUY_P = 0.5
COMPLEMENT_NOW_P = 0.45
COMPLEMENT_LATER_P = 0.15
REPEAT_P = 0.75
REPEAT_GENERATIONS = 10
REPEAT_MEAN_DAYS = 35.0


@dataclass(frozen=True)
class Events:
    """Interaction rows as parallel arrays (customer and item as positions)."""

    cust: np.ndarray
    item: np.ndarray
    kind: np.ndarray
    ts: np.ndarray
    qty: np.ndarray

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        """Concatenate event batches."""
        return Events(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("cust", "item", "kind", "ts", "qty")
            )
        )

    def take(self, idx: np.ndarray) -> Events:
        """Rows selected by a mask or index array."""
        return Events(self.cust[idx], self.item[idx], self.kind[idx], self.ts[idx], self.qty[idx])


def simulate_events(
    rng: np.random.Generator, pop: Population, cat: Catalogue, lo: int, hi: int
) -> Events:
    """All interactions of customers [lo, hi), sorted by customer then time."""
    s_cust, s_ts = _sessions(rng, pop, lo, hi)
    views = _views(rng, pop, cat, s_cust, s_ts)
    carts = _follow(rng, views, CART_P, CART, 40.0)
    carts = Events(carts.cust, carts.item, carts.kind, carts.ts, _quantity(rng, cat, carts.item))
    buys = _follow(rng, carts, BUY_P, PURCHASE, 150.0)
    now, later = _complements(rng, pop, cat, buys)
    bought = Events.concat(
        [buys, now.take(now.kind == PURCHASE), later.take(later.kind == PURCHASE)]
    )
    repeats = _repeats(rng, pop, cat, bought)
    out = Events.concat([views, carts, buys, now, later, repeats])
    out = out.take(out.ts < pop.active_hi[out.cust])  # nothing after churn or the window end
    return out.take(np.lexsort((out.kind, out.ts, out.cust)))


def amounts(rng: np.random.Generator, cat: Catalogue, ev: Events) -> np.ndarray:
    """Revenue per row: price * quantity less a small discount on some purchases; 0 otherwise."""
    discount = np.where(rng.random(ev.ts.size) < 0.25, rng.uniform(0.05, 0.2, ev.ts.size), 0.0)
    value = cat.price[ev.item] * ev.qty * (1.0 - discount)
    return np.where(ev.kind == PURCHASE, np.round(value, 2), 0.0)


def _sessions(
    rng: np.random.Generator, pop: Population, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """Session starts: a Poisson process at the peak rate, thinned by the lifecycle intensity."""
    c = np.arange(lo, hi)
    span = np.maximum(pop.active_hi[c] - pop.active_lo[c], 0)
    n = rng.poisson(pop.rate_max[c] * span / DAY)
    cust = np.repeat(c, n)
    ts = pop.active_lo[cust] + (rng.random(cust.size) * span[cust - lo]).astype(np.int64)
    keep = rng.random(cust.size) < pop.intensity(cust, ts)
    # people sign up while shopping: customers who join inside the window start with a session
    joined = c[pop.signup[c] >= pop.start]
    return (
        np.concatenate([cust[keep], joined]),
        np.concatenate([ts[keep], pop.signup[joined] + 1]),
    )


def taste(
    rng: np.random.Generator, pop: Population, cust: np.ndarray, n_categories: int
) -> np.ndarray:
    """A category per row: mostly the customer's cluster, sometimes a personal favourite."""
    k = pop.cluster[cust]
    # Row k of the stacked CDFs is shifted by k, so one searchsorted serves every cluster.
    flat = (pop.cluster_cdf + np.arange(pop.cluster_cdf.shape[0])[:, None]).ravel()
    from_cluster = np.searchsorted(flat, k + rng.random(cust.size), side="right") - k * n_categories
    from_cluster = np.clip(from_cluster, 0, n_categories - 1)
    pick = rng.random(cust.size)
    other = rng.integers(0, n_categories, cust.size)
    return np.where(pick < 0.6, from_cluster, np.where(pick < 0.85, pop.favourite[cust], other))


def _views(
    rng: np.random.Generator, pop: Population, cat: Catalogue, s_cust: np.ndarray, s_ts: np.ndarray
) -> Events:
    """Each session views 1 + Poisson items, mostly from one category and the preferred tier."""
    n_views = 1 + rng.poisson(VIEWS_EXTRA, s_cust.size)
    sid = np.repeat(np.arange(s_cust.size), n_views)
    cust = s_cust[sid]
    main = taste(rng, pop, s_cust, cat.n_categories)
    category = np.where(
        rng.random(sid.size) < 0.8, main[sid], taste(rng, pop, cust, cat.n_categories)
    )
    tier = np.where(rng.random(sid.size) < 0.7, pop.tier_pref[cust], rng.integers(0, 3, sid.size))
    gaps = rng.exponential(90.0, sid.size)
    csum = np.cumsum(gaps)
    first = np.concatenate([[0], np.cumsum(n_views)[:-1]]).astype(np.int64)
    offset = csum - (csum[first] - gaps[first])[sid]
    ts = s_ts[sid] + offset.astype(np.int64)
    item = cat.sample(rng, category, tier)
    return Events(cust, item, np.full(sid.size, VIEW, np.int8), ts, np.ones(sid.size, np.int64))


def _follow(rng: np.random.Generator, prev: Events, p: float, kind: int, mean_gap: float) -> Events:
    """A share `p` of `prev` rows lead to a `kind` row of the same item a little later."""
    nxt = prev.take(rng.random(prev.ts.size) < p)
    ts = nxt.ts + rng.exponential(mean_gap, nxt.ts.size).astype(np.int64) + 1
    return Events(nxt.cust, nxt.item, np.full(ts.size, kind, np.int8), ts, nxt.qty)


def _quantity(rng: np.random.Generator, cat: Catalogue, item: np.ndarray) -> np.ndarray:
    """Mostly 1; consumables more often several."""
    several = rng.random(item.size) < np.where(cat.consumable[cat.category[item]], 0.35, 0.08)
    return np.where(several, 1 + rng.geometric(0.5, item.size), 1).astype(np.int64)


def _complements(
    rng: np.random.Generator, pop: Population, cat: Catalogue, buys: Events
) -> tuple[Events, Events]:
    """Accessories of purchased items: in the same session (view, cart, buy) or days later."""
    comp = cat.complement[cat.category[buys.item]]
    u = rng.random(buys.ts.size)
    now_m = (comp >= 0) & (u < COMPLEMENT_NOW_P)
    later_m = (comp >= 0) & (u >= COMPLEMENT_NOW_P) & (u < COMPLEMENT_NOW_P + COMPLEMENT_LATER_P)
    parts = []
    for mask, delay, steps in ((now_m, 60.0, (CART, PURCHASE)), (later_m, None, (PURCHASE,))):
        base = buys.take(mask)
        item = cat.sample(rng, comp[mask], cat.tier[base.item])
        if delay is None:
            ts = base.ts + (rng.uniform(1.0, 20.0, base.ts.size) * DAY).astype(np.int64)
            keep = rng.random(ts.size) < _relative(pop, base.cust, base.ts, ts)
            base, item, ts = base.take(keep), item[keep], ts[keep]
        else:
            ts = base.ts + rng.exponential(delay, base.ts.size).astype(np.int64) + 1
        rows = [
            Events(base.cust, item, np.full(ts.size, VIEW, np.int8), ts, np.ones(ts.size, np.int64))
        ]
        qty = _quantity(rng, cat, item)
        for step in steps:
            ts = ts + rng.exponential(45.0, ts.size).astype(np.int64) + 1
            rows.append(Events(base.cust, item, np.full(ts.size, step, np.int8), ts, qty))
        parts.append(Events.concat(rows))
    return parts[0], parts[1]


def _relative(pop: Population, cust: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """Probability of keeping a follow-up at t1 given activity at t0 (0 after churn)."""
    return pop.intensity(cust, t1) / np.maximum(pop.intensity(cust, t0), 1e-9)


def _repeats(rng: np.random.Generator, pop: Population, cat: Catalogue, bought: Events) -> Events:
    """Consumables are bought again every ~5 weeks while the customer stays active."""
    cur = bought.take(cat.consumable[cat.category[bought.item]])
    parts = []
    for _ in range(REPEAT_GENERATIONS):
        if cur.ts.size == 0:
            break
        ts = cur.ts + (rng.gamma(4.0, REPEAT_MEAN_DAYS / 4.0, cur.ts.size) * DAY).astype(np.int64)
        keep = rng.random(ts.size) < REPEAT_P * _relative(pop, cur.cust, cur.ts, ts)
        cur = Events(
            cur.cust[keep],
            cur.item[keep],
            cur.kind[keep],
            ts[keep],
            _quantity(rng, cat, cur.item[keep]),
        )
        parts.append(cur)
    if not parts:
        return bought.take(np.zeros(bought.ts.size, dtype=bool))
    return Events.concat(parts)
