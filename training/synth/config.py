"""Arguments of a synthetic world, their defaults and validation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

Format = Literal["parquet", "csv"]
FORMATS: tuple[str, ...] = ("parquet", "csv")

DEFAULT_DAYS = 730
DEFAULT_END = date(2026, 10, 31)
# Customers simulated per chunk. Fixed (never derived from the machine) so that the output of a
# seed does not depend on where it runs.
CHUNK_CUSTOMERS = 20_000
MIN_ITEMS = 200
MAX_ITEMS = 50_000
DAY = 86_400


class SynthError(ValueError):
    """Bad arguments or an output directory that cannot be written."""


def default_items(customers: int) -> int:
    """Catalogue size for a population: customers // 20, clamped to [200, 50_000]."""
    return min(max(customers // 20, MIN_ITEMS), MAX_ITEMS)


@dataclass(frozen=True)
class WorldConfig:
    """What to generate. `items=None` means `default_items(customers)`."""

    customers: int
    seed: int = 0
    items: int | None = None
    days: int = DEFAULT_DAYS
    end: date = DEFAULT_END
    fmt: Format = "parquet"
    chunk_customers: int = field(default=CHUNK_CUSTOMERS, repr=False)

    def validate(self) -> None:
        """Raise `SynthError` with a clear message for arguments that make no sense."""
        if self.customers < 1:
            raise SynthError(f"--customers must be at least 1, got {self.customers}")
        if self.seed < 0:
            raise SynthError(f"--seed must be >= 0, got {self.seed}")
        if self.items is not None and self.items < MIN_ITEMS:
            raise SynthError(f"--items must be at least {MIN_ITEMS}, got {self.items}")
        if self.days < 90:
            raise SynthError(f"--days must be at least 90 (churn needs a window), got {self.days}")
        if self.fmt not in FORMATS:
            raise SynthError(f"--format must be one of {list(FORMATS)}, got {self.fmt!r}")
        if self.chunk_customers < 1:
            raise SynthError(f"chunk size must be positive, got {self.chunk_customers}")

    @property
    def n_items(self) -> int:
        """The effective catalogue size."""
        return self.items if self.items is not None else default_items(self.customers)

    @property
    def end_s(self) -> int:
        """End of the window (exclusive) in seconds since the Unix epoch (naive UTC)."""
        return (self.end - date(1970, 1, 1)).days * DAY

    @property
    def start_s(self) -> int:
        """Start of the window in seconds since the Unix epoch."""
        return self.end_s - self.days * DAY

    def as_json(self) -> dict[str, Any]:
        """The arguments as JSON-friendly values (for world.json)."""
        out = asdict(self)
        out["end"] = self.end.isoformat()
        out["items"] = self.n_items
        out["format"] = out.pop("fmt")
        return out


def iso(seconds: int) -> str:
    """Seconds since the epoch as an ISO timestamp (naive UTC)."""
    return (datetime(1970, 1, 1) + timedelta(seconds=int(seconds))).isoformat()
