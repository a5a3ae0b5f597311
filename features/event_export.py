"""Export the durable event stream to Parquet in the interactions contract, exactly once.

The service appends every accepted event to the Redis stream `<prefix>:events` (a request's
events in one transaction, after the recent-events lists). The exporter reads it through the
consumer group `export`, writes each batch to `events-<first id>-<last id>.parquet` (atomically:
a temporary file renamed into place) and only then acknowledges the batch. A crash after the
read leaves the batch pending in the group; the next run reads this consumer's pending entries
first, in batches of the same size, so it writes the same file name again (a rewrite, not a
duplicate) and then acknowledges. Each row carries its stream id (`event_id`), and
`features.load` drops repeated ids, so even a rerun with another batch size cannot count an
event twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd
import redis

from features.load import write_frame
from features.redis_client import RedisClient
from features.redis_codec import decode_event
from features.redis_keys import KeyLayout

logger = logging.getLogger(__name__)

GROUP = "export"
Entry = tuple[bytes, dict[bytes, bytes] | None]


@dataclass
class ExportReport:
    """What one export run wrote: files and the number of events in them."""

    files: list[Path] = field(default_factory=list)
    events: int = 0
    skipped: int = 0


class EventExporter:
    """Reads the event stream through the `export` consumer group and writes Parquet files."""

    def __init__(
        self, client: RedisClient, prefix: str, *, consumer: str = "exporter", batch: int = 10000
    ) -> None:
        self._r = client
        self._stream = KeyLayout(prefix).events_stream
        self._consumer = consumer
        self._batch = batch

    def run(self, out_dir: Path, on_step: Callable[[str], None] | None = None) -> ExportReport:
        """Export this consumer's pending entries, then every new one; trim what is exported.

        `on_step("read" | "written")` is called after each read and each write (a test hook).
        """
        self._ensure_group()
        report = ExportReport()
        for start in ("0", ">"):  # "0": our pending entries (a crash); ">": never delivered
            while entries := self._read(start):
                if on_step:
                    on_step("read")
                self._write(entries, out_dir, report)
                if on_step:
                    on_step("written")
                self._r.xack(self._stream, GROUP, *[entry_id for entry_id, _ in entries])
        self._trim()
        return report

    def _ensure_group(self) -> None:
        try:
            self._r.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _read(self, start: str) -> list[Entry]:
        reply = self._r.xreadgroup(GROUP, self._consumer, {self._stream: start}, count=self._batch)
        if not reply:
            return []
        _, entries = cast(list[tuple[bytes, list[Entry]]], reply)[0]
        return entries

    def _write(self, entries: Sequence[Entry], out_dir: Path, report: ExportReport) -> None:
        rows: list[dict[str, Any]] = []
        for entry_id, fields in entries:
            row = _row(entry_id, fields)
            if row is None:
                report.skipped += 1
                logger.warning("skipping unreadable stream entry %s", entry_id.decode())
                continue
            rows.append(row)
        first, last = entries[0][0].decode(), entries[-1][0].decode()
        if not rows:
            return
        frame = pd.DataFrame(rows)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s").astype("datetime64[ns]")
        path = write_frame(frame, out_dir / f"events-{first}-{last}.parquet")
        report.files.append(path)
        report.events += len(rows)
        logger.info("exported %d events (%s..%s) to %s", len(rows), first, last, path)

    def _trim(self) -> None:
        """Drop exported entries: everything up to the group's last delivered id, once acked."""
        groups: list[dict[str, Any]] = self._r.xinfo_groups(self._stream)
        group = next(g for g in groups if g["name"] in (GROUP, GROUP.encode()))
        last = group["last-delivered-id"]
        last = last.decode() if isinstance(last, bytes) else str(last)
        if int(group["pending"]) == 0 and last != "0-0":
            ms, seq = last.split("-")
            self._r.xtrim(self._stream, minid=f"{ms}-{int(seq) + 1}", approximate=False)


def _row(entry_id: bytes, fields: dict[bytes, bytes] | None) -> dict[str, Any] | None:
    """One interactions row from a stream entry, or None when it cannot be read."""
    if not fields or b"c" not in fields or b"p" not in fields:
        return None
    try:
        ev = decode_event(fields[b"c"].decode(), fields[b"p"])
    except (ValueError, TypeError, KeyError):
        return None
    return {
        "customer_id": ev.customer_id,
        "item_id": ev.item_id,
        "event_type": ev.event_type,
        "timestamp": ev.ts,
        "quantity": ev.quantity,
        "amount": ev.amount,
        "event_id": entry_id.decode(),
    }
