"""The item catalogue: categories, brands, tiered log-normal prices, complements, popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# name, median standard-tier price, consumable (bought again and again), complement of
CATEGORIES: tuple[tuple[str, float, bool, str | None], ...] = (
    ("phones", 450.0, False, None),
    ("phone_cases", 20.0, False, "phones"),
    ("laptops", 900.0, False, None),
    ("laptop_bags", 45.0, False, "laptops"),
    ("cameras", 600.0, False, None),
    ("memory_cards", 25.0, False, "cameras"),
    ("printers", 180.0, False, None),
    ("printer_ink", 30.0, True, "printers"),
    ("coffee_machines", 250.0, False, None),
    ("coffee_beans", 15.0, True, "coffee_machines"),
    ("game_consoles", 400.0, False, None),
    ("video_games", 55.0, False, "game_consoles"),
    ("bicycles", 700.0, False, None),
    ("bike_helmets", 60.0, False, "bicycles"),
    ("tents", 220.0, False, None),
    ("sleeping_bags", 90.0, False, "tents"),
    ("grills", 300.0, False, None),
    ("charcoal", 18.0, True, "grills"),
    ("razors", 60.0, False, None),
    ("razor_blades", 20.0, True, "razors"),
    ("aquariums", 150.0, False, None),
    ("fish_food", 8.0, True, "aquariums"),
    ("strollers", 350.0, False, None),
    ("diapers", 30.0, True, "strollers"),
    ("books", 18.0, False, None),
    ("headphones", 120.0, False, None),
    ("kitchenware", 40.0, False, None),
    ("shoes", 85.0, False, None),
    ("clothing", 45.0, False, None),
    ("skincare", 25.0, True, None),
    ("vitamins", 22.0, True, None),
    ("toys", 30.0, False, None),
    ("furniture", 400.0, False, None),
    ("garden_tools", 60.0, False, None),
)
TIERS = ("budget", "standard", "premium")
TIER_PRICE = np.array([0.55, 1.0, 1.9])
_BRAND_HEADS = ("Nor", "Vel", "Ast", "Kor", "Lum", "Zen", "Pax", "Ori", "Tal", "Bri", "Cal", "Dex")
_BRAND_TAILS = ("tek", "ora", "ex", "ium", "io", "a", "on", "is")


@dataclass(frozen=True)
class Catalogue:
    """Items as parallel arrays plus what the simulation needs to sample them."""

    category: np.ndarray  # int, index into CATEGORIES
    tier: np.ndarray  # int 0..2
    brand: np.ndarray  # str
    price: np.ndarray
    cost: np.ndarray
    complement: np.ndarray  # per category: index of the accessory category, or -1
    consumable: np.ndarray  # per category: bool
    order: np.ndarray  # item indices sorted by (category, tier) group
    cum_weight: np.ndarray  # cumulative popularity along `order`
    group_lo: np.ndarray  # per group (category * 3 + tier): cumulative weight before it
    group_total: np.ndarray  # per group: its total weight
    group_last: np.ndarray  # per group: position of its last item in `order`

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.price.size)

    @property
    def n_categories(self) -> int:
        """Number of categories."""
        return int(self.complement.size)

    def sample(
        self, rng: np.random.Generator, category: np.ndarray, tier: np.ndarray
    ) -> np.ndarray:
        """Draw one item per row from the (category, tier) group, by popularity."""
        group = category.astype(np.int64) * 3 + tier
        target = self.group_lo[group] + rng.random(group.size) * self.group_total[group]
        pos = np.searchsorted(self.cum_weight, target, side="right")
        return self.order[np.minimum(pos, self.group_last[group])]


def category_names() -> list[str]:
    """Category names in index order."""
    return [c[0] for c in CATEGORIES]


def build_catalogue(rng: np.random.Generator, n_items: int) -> Catalogue:
    """Build `n_items` items over the fixed categories (each category gets all three tiers).

    Raises:
        ValueError: if there are fewer items than category-tier groups.
    """
    n_cat = len(CATEGORIES)
    if n_items < 3 * n_cat:
        raise ValueError(f"need at least {3 * n_cat} items for {n_cat} categories, got {n_items}")
    # Bigger categories for cheap things: more books than bicycles.
    base = np.array([c[1] for c in CATEGORIES])
    share = rng.dirichlet(np.full(n_cat, 4.0)) * (1.0 / np.sqrt(base))
    extra = rng.multinomial(n_items - 3 * n_cat, share / share.sum())
    category = np.repeat(np.arange(n_cat), 3 + extra)
    tier = np.empty(n_items, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(3 + extra)[:-1]])
    tier[:] = rng.choice(3, size=n_items, p=[0.35, 0.45, 0.20])
    for offset in range(3):  # guarantee every (category, tier) group is non-empty
        tier[starts + offset] = offset
    perm = rng.permutation(n_items)  # item ids are not ordered by category
    category, tier = category[perm], tier[perm]
    price = base[category] * TIER_PRICE[tier] * rng.lognormal(0.0, 0.22, n_items)
    price = np.round(np.maximum(price, 1.0), 2)
    margin = rng.uniform(0.45, 0.8, n_cat)[category] + rng.normal(0.0, 0.03, n_items)
    cost = np.round(price * np.clip(margin, 0.2, 0.95), 2)
    brand = _brands(rng, category, tier, n_cat)
    weight = rng.lognormal(0.0, 1.4, n_items)  # long-tailed popularity
    return _with_sampler(category, tier, brand, price, cost, weight)


def _brands(
    rng: np.random.Generator, category: np.ndarray, tier: np.ndarray, n_cat: int
) -> np.ndarray:
    """Brand names; each category has 4-8 brands, budget and premium items use different ones."""
    pool = np.array([h + t for h in _BRAND_HEADS for t in _BRAND_TAILS])
    out = np.empty(category.size, dtype=object)
    for cat in range(n_cat):
        names = rng.choice(pool, size=int(rng.integers(4, 9)), replace=False)
        idx = np.flatnonzero(category == cat)
        # budget -> first half of the brand list, premium -> second half, standard -> any
        lo = np.where(tier[idx] == 2, names.size // 2, 0)
        hi = np.where(tier[idx] == 0, names.size // 2, names.size)
        out[idx] = names[lo + (rng.random(idx.size) * (hi - lo)).astype(np.int64)]
    return out.astype(str)


def _with_sampler(
    category: np.ndarray,
    tier: np.ndarray,
    brand: np.ndarray,
    price: np.ndarray,
    cost: np.ndarray,
    weight: np.ndarray,
) -> Catalogue:
    names = category_names()
    n_cat = len(CATEGORIES)
    complement = np.full(n_cat, -1, dtype=np.int64)
    for i, (_, _, _, of) in enumerate(CATEGORIES):
        if of is not None:
            complement[names.index(of)] = i
    consumable = np.array([c[2] for c in CATEGORIES])
    group = category * 3 + tier
    order = np.argsort(group, kind="stable")
    cum = np.cumsum(weight[order])
    last = np.cumsum(np.bincount(group, minlength=3 * n_cat)) - 1
    first = np.concatenate([[0], last[:-1] + 1])
    lo = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    return Catalogue(
        category,
        tier,
        brand,
        price,
        cost,
        complement,
        consumable,
        order,
        cum,
        lo,
        cum[last] - lo,
        last,
    )
