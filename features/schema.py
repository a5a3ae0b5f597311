"""Data contracts: the raw tables valuechain reads, shared by training and serving.

Each table is a list of typed columns. `features.load` validates files against these
contracts; `docs/data.md` documents them for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "str", "int", "float", "bool", "datetime"]

EVENT_TYPES = ("view", "cart", "purchase")


@dataclass(frozen=True)
class Column:
    """One column of a table contract."""

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    min_value: float | None = None
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """A table contract: its columns and the column(s) that must be unique."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "id", doc="Unique customer id."),
        Column("signup_date", "datetime", doc="When the customer signed up."),
        Column("region", "str", doc="Sales region."),
        Column("acquisition_channel", "str", doc="How the customer was acquired."),
        Column(
            "referred_by",
            "id",
            required=False,
            nullable=True,
            doc="customer_id of the referrer, if any.",
        ),
        Column(
            "cancelled_at",
            "datetime",
            required=False,
            nullable=True,
            doc="Explicit cancellation time, if the business has one.",
        ),
    ),
    key=("customer_id",),
)

ITEMS = Table(
    "items",
    (
        Column("item_id", "id", doc="Unique item id."),
        Column("category", "str", doc="Item category."),
        Column("brand", "str", doc="Brand."),
        Column("price", "float", min_value=0.0, doc="List price."),
        Column(
            "cost",
            "float",
            required=False,
            nullable=True,
            min_value=0.0,
            doc="Unit cost, for margin; optional.",
        ),
    ),
    key=("item_id",),
)

INTERACTIONS = Table(
    "interactions",
    (
        Column("customer_id", "id"),
        Column("item_id", "id"),
        Column("event_type", "str", choices=EVENT_TYPES, doc="view, cart or purchase."),
        Column("timestamp", "datetime"),
        Column("quantity", "int", required=False, min_value=0.0, doc="Units; default 1."),
        Column(
            "amount",
            "float",
            required=False,
            min_value=0.0,
            doc="Revenue of a purchase; 0 for views and carts; default 0.",
        ),
    ),
)

LEADS = Table(
    "leads",
    (
        Column("lead_id", "id"),
        Column("created_at", "datetime"),
        Column("source", "str", doc="web, referral, event, partner, outbound, ..."),
        Column("industry", "str"),
        Column("company_size", "int", min_value=0.0, doc="Employees."),
        Column("region", "str", required=False, nullable=True),
        Column("email_opens", "int", min_value=0.0),
        Column("web_visits", "int", min_value=0.0),
        Column("content_downloads", "int", min_value=0.0),
        Column("meetings", "int", min_value=0.0),
        Column("converted", "bool"),
        Column("converted_at", "datetime", required=False, nullable=True),
    ),
    key=("lead_id",),
)

TICKETS = Table(
    "tickets",
    (
        Column("ticket_id", "id", required=False),
        Column("customer_id", "id"),
        Column("created_at", "datetime"),
        Column("kind", "str", doc="billing, delivery, product, account, ..."),
        Column("resolved", "bool"),
        Column(
            "resolved_at",
            "datetime",
            required=False,
            nullable=True,
            doc="When it was resolved; lets features know a ticket's state as of a date.",
        ),
        Column(
            "satisfaction",
            "float",
            required=False,
            nullable=True,
            min_value=1.0,
            doc="CSAT 1-5 when answered.",
        ),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, ITEMS, INTERACTIONS, LEADS, TICKETS)}

# Defaults for optional columns that are not nullable.
DEFAULTS: dict[tuple[str, str], object] = {
    ("interactions", "quantity"): 1,
    ("interactions", "amount"): 0.0,
}
