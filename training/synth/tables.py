"""Turn simulated arrays into contract columns (ids, labels, timestamps)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.schema import EVENT_TYPES
from training.synth.behaviour import Events
from training.synth.catalogue import Catalogue, category_names
from training.synth.leads import INDUSTRIES, SOURCES, Leads
from training.synth.population import CHANNELS, REGIONS, Population
from training.synth.tickets import KINDS, Tickets
from training.synth.writer import ids, labels, timestamps

Columns = dict[str, pa.Array | np.ndarray]


def id_width(n: int) -> int:
    """Digits of the ids for `n` rows (at least 6)."""
    return max(6, len(str(n)))


def customer_columns(pop: Population, lo: int, hi: int) -> Columns:
    """Customers [lo, hi)."""
    pos = np.arange(lo, hi)
    width = id_width(pop.size)
    ref = pop.referred_by[pos]
    has_ref = ref >= 0
    referrer = ids("C", np.maximum(ref, 0), width)
    cancelled = pop.cancelled_at[pos]
    return {
        "customer_id": ids("C", pos, width),
        "signup_date": timestamps(pop.signup[pos]),
        "region": labels(REGIONS, pop.region[pos]),
        "acquisition_channel": labels(CHANNELS, pop.channel[pos]),
        "referred_by": pa.array(referrer.to_pylist(), mask=~has_ref, type=pa.string()),
        "cancelled_at": timestamps(np.maximum(cancelled, 0), cancelled >= 0),
    }


def item_columns(cat: Catalogue) -> Columns:
    """The whole catalogue."""
    return {
        "item_id": ids("I", np.arange(cat.n_items), id_width(cat.n_items)),
        "category": labels(tuple(category_names()), cat.category),
        "brand": pa.array(cat.brand.tolist(), type=pa.string()),
        "price": cat.price,
        "cost": cat.cost,
    }


def interaction_columns(ev: Events, amount: np.ndarray, n_customers: int, n_items: int) -> Columns:
    """Interaction rows (customer and item positions become ids)."""
    cust_ids = _ids_by_take("C", ev.cust, id_width(n_customers))
    return {
        "customer_id": cust_ids,
        "item_id": _ids_by_take("I", ev.item, id_width(n_items)),
        "event_type": labels(EVENT_TYPES, ev.kind),
        "timestamp": timestamps(ev.ts),
        "quantity": ev.qty,
        "amount": amount,
    }


def ticket_columns(tk: Tickets, first_id: int, n_customers: int) -> Columns:
    """Ticket rows numbered from `first_id` (0-based)."""
    n = tk.ts.size
    return {
        "ticket_id": ids("T", np.arange(first_id, first_id + n), 8),
        "customer_id": _ids_by_take("C", tk.cust, id_width(n_customers)),
        "created_at": timestamps(tk.ts),
        "kind": labels(KINDS, tk.kind),
        "resolved": tk.resolved,
        "resolved_at": timestamps(np.maximum(tk.resolved_at, 0), tk.resolved_at >= 0),
        "satisfaction": pa.array(tk.satisfaction, from_pandas=True),
    }


def lead_columns(ld: Leads) -> Columns:
    """All leads; a few have no region (it is optional in CRMs)."""
    n = ld.created.size
    return {
        "lead_id": ids("L", np.arange(n), id_width(n)),
        "created_at": timestamps(ld.created),
        "source": labels(SOURCES, ld.source),
        "industry": labels(INDUSTRIES, ld.industry),
        "company_size": ld.company_size,
        "region": pa.array(
            labels(REGIONS, np.maximum(ld.region, 0)).to_pylist(),
            mask=ld.region < 0,
            type=pa.string(),
        ),
        "email_opens": ld.email_opens,
        "web_visits": ld.web_visits,
        "content_downloads": ld.content_downloads,
        "meetings": ld.meetings,
        "converted": ld.converted,
        "converted_at": timestamps(np.maximum(ld.converted_at, 0), ld.converted_at >= 0),
    }


def _ids_by_take(prefix: str, positions: np.ndarray, width: int) -> pa.Array:
    """Ids for many repeated positions: format each distinct one once, then gather."""
    uniq, inverse = np.unique(positions, return_inverse=True)
    return ids(prefix, uniq, width).take(pa.array(inverse.astype(np.int64)))
