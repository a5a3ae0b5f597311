"""Generate a whole world into a directory: chunked, deterministic, all-or-nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from features.atomic import staged_dir
from training.synth import tables
from training.synth.behaviour import amounts, simulate_events
from training.synth.catalogue import Catalogue, build_catalogue
from training.synth.config import SynthError, WorldConfig, iso
from training.synth.leads import n_leads, simulate_leads
from training.synth.population import Population, build_population
from training.synth.tickets import simulate_tickets
from training.synth.writer import Sink, open_sink

logger = logging.getLogger(__name__)

TABLE_NAMES = ("customers", "items", "interactions", "leads", "tickets")
GENERATOR_VERSION = 1
ProgressFn = Callable[[int, int], None]


def n_chunks(config: WorldConfig) -> int:
    """How many customer chunks `config` is simulated in."""
    return -(-config.customers // config.chunk_customers)


def generate_world(
    out: Path, config: WorldConfig, *, overwrite: bool = False, progress: ProgressFn | None = None
) -> dict[str, Any]:
    """Write the five tables and world.json into `out`.

    Output goes to a temporary sibling directory that is renamed to `out` only when complete.

    Args:
        out: Target directory; must be absent or empty unless `overwrite`.
        config: What to generate.
        overwrite: Replace a non-empty `out`.
        progress: Called as progress(done_chunks, total_chunks) after each chunk.

    Returns:
        The content of world.json.

    Raises:
        SynthError: bad arguments or a non-empty `out` without `overwrite`.
    """
    config.validate()
    out = Path(out)
    check_target(out, overwrite=overwrite)
    with staged_dir(out) as tmp:
        return _generate_into(tmp, config, progress)


def check_target(out: Path, *, overwrite: bool) -> None:
    """Raise `SynthError` unless `out` is absent, an empty directory, or `overwrite` is set."""
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise SynthError(f"{out} is not empty; pass --overwrite to replace it")


def _generate_into(
    directory: Path, config: WorldConfig, progress: ProgressFn | None
) -> dict[str, Any]:
    root = np.random.SeedSequence(config.seed)
    cat_seq, pop_seq, lead_seq, chunk_seq = root.spawn(4)
    start, end = config.start_s, config.end_s
    catalogue = build_catalogue(np.random.default_rng(cat_seq), config.n_items)
    pop = build_population(
        np.random.default_rng(pop_seq), config.customers, catalogue.n_categories, start, end
    )
    sinks = {name: open_sink(directory, name, config.fmt) for name in TABLE_NAMES}
    try:
        sinks["items"].write(tables.item_columns(catalogue))
        leads = simulate_leads(
            np.random.default_rng(lead_seq), n_leads(config.customers), start, end
        )
        sinks["leads"].write(tables.lead_columns(leads))
        _write_chunks(sinks, config, catalogue, pop, chunk_seq, progress)
    finally:
        for sink in sinks.values():
            sink.close()
    summary = _summary(config, sinks, pop)
    (directory / "world.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _write_chunks(
    sinks: dict[str, Sink],
    config: WorldConfig,
    catalogue: Catalogue,
    pop: Population,
    chunk_seq: np.random.SeedSequence,
    progress: ProgressFn | None,
) -> None:
    total = n_chunks(config)
    for k, seq in enumerate(chunk_seq.spawn(total)):
        rng = np.random.default_rng(seq)
        lo = k * config.chunk_customers
        hi = min(lo + config.chunk_customers, config.customers)
        sinks["customers"].write(tables.customer_columns(pop, lo, hi))
        events = simulate_events(rng, pop, catalogue, lo, hi)
        sinks["interactions"].write(
            tables.interaction_columns(
                events, amounts(rng, catalogue, events), pop.size, catalogue.n_items
            )
        )
        tk = simulate_tickets(rng, pop, lo, hi)
        sinks["tickets"].write(tables.ticket_columns(tk, sinks["tickets"].rows, pop.size))
        logger.debug("chunk %d/%d: %d interactions", k + 1, total, events.ts.size)
        if progress is not None:
            progress(k + 1, total)


def _summary(config: WorldConfig, sinks: dict[str, Sink], pop: Population) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": config.seed,
        "arguments": config.as_json(),
        "rows": {name: sink.rows for name, sink in sinks.items()},
        "start": iso(config.start_s),
        "end": iso(config.end_s),
        "as_of": iso(config.end_s),
        "truth": {
            "churned_customers": int(pop.churned.sum()),
            "cancelled_customers": int((pop.cancelled_at >= 0).sum()),
            "referred_customers": int((pop.referred_by >= 0).sum()),
        },
    }
