"""The synthetic world generator: contract, determinism, integrity and learnable structure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from features.load import load_table
from features.schema import EVENT_TYPES, TABLES
from training.synth import TABLE_NAMES, SynthError, WorldConfig, generate_world
from training.synth.population import build_population
from training.synth.writer import arrow_schema

END = pd.Timestamp("2026-10-31")
DAY = pd.Timedelta(days=1)


def _load(directory: Path, ext: str = "parquet") -> dict[str, pd.DataFrame]:
    return {name: load_table(directory / f"{name}.{ext}", name) for name in TABLE_NAMES}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "world"
    generate_world(out, WorldConfig(customers=2000, seed=11))
    return out


@pytest.fixture(scope="module")
def world(world_dir: Path) -> dict[str, pd.DataFrame]:
    return _load(world_dir)


@pytest.fixture(scope="module")
def purchases(world: dict[str, pd.DataFrame]) -> pd.DataFrame:
    it = world["interactions"]
    buys = it[it["event_type"] == "purchase"]
    return buys.merge(world["items"][["item_id", "category", "price"]], on="item_id")


# --- contract and integrity -------------------------------------------------------------------


def test_files_have_exactly_the_contract_columns_and_types(world_dir: Path) -> None:
    for name in TABLE_NAMES:
        schema = pq.read_schema(world_dir / f"{name}.parquet")
        assert schema.names == TABLES[name].names, name
        expected = arrow_schema(name, "parquet")
        assert [f.type for f in schema] == [f.type for f in expected], name


def test_every_file_passes_the_loader_without_forbidden_nulls(
    world: dict[str, pd.DataFrame],
) -> None:
    for name, frame in world.items():
        assert len(frame) > 0, name
        for col in TABLES[name].columns:
            if not col.nullable:
                assert not frame[col.name].isna().any(), (name, col.name)
    assert set(world["interactions"]["event_type"].unique()) == set(EVENT_TYPES)


def test_world_json_describes_the_files(world_dir: Path, world: dict[str, pd.DataFrame]) -> None:
    meta = json.loads((world_dir / "world.json").read_text())
    assert meta["seed"] == 11
    assert meta["arguments"]["items"] == 200  # clamp(2000 // 20, 200, 50_000)
    assert meta["rows"] == {name: len(frame) for name, frame in world.items()}
    assert meta["as_of"] == meta["end"] == "2026-10-31T00:00:00"
    assert meta["start"] == "2024-10-31T00:00:00"
    assert world["interactions"]["timestamp"].max() < END
    assert world["interactions"]["timestamp"].min() >= pd.Timestamp(meta["start"])


def test_referential_integrity(world: dict[str, pd.DataFrame]) -> None:
    customers = world["customers"].set_index("customer_id")
    items = set(world["items"]["item_id"])
    assert set(world["interactions"]["customer_id"]) <= set(customers.index)
    assert set(world["interactions"]["item_id"]) <= items
    assert set(world["tickets"]["customer_id"]) <= set(customers.index)
    assert world["tickets"]["ticket_id"].is_unique
    referred = customers.dropna(subset=["referred_by"])
    assert 0.06 < len(referred) / len(customers) < 0.14
    assert referred["referred_by"].isin(customers.index).all()
    referrer_signup = customers.loc[referred["referred_by"].to_numpy(), "signup_date"].to_numpy()
    assert (referrer_signup < referred["signup_date"].to_numpy()).all()
    assert (referred["acquisition_channel"] == "referral").all()


def test_amount_quantity_and_prices(
    world: dict[str, pd.DataFrame], purchases: pd.DataFrame
) -> None:
    it = world["interactions"]
    assert (it.loc[it["event_type"] != "purchase", "amount"] == 0).all()
    assert (purchases["quantity"] == 1).mean() > 0.7
    full = purchases["price"] * purchases["quantity"]
    assert ((purchases["amount"] <= full + 0.01) & (purchases["amount"] >= 0.79 * full)).all()
    items = world["items"]
    assert 20 <= items["category"].nunique() <= 40
    assert (items["cost"] < items["price"]).all()
    spread = items.groupby("category")["price"].agg(lambda p: p.max() / p.min())
    assert (spread > 2.0).mean() > 0.9  # budget to premium tiers inside a category


# --- determinism and formats --------------------------------------------------------------------


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    config = WorldConfig(customers=300, seed=5)
    generate_world(tmp_path / "a", config)
    generate_world(tmp_path / "b", config)
    generate_world(tmp_path / "c", WorldConfig(customers=300, seed=6))
    for name in TABLE_NAMES:
        a = pq.read_table(tmp_path / "a" / f"{name}.parquet")
        assert a.equals(pq.read_table(tmp_path / "b" / f"{name}.parquet")), name
    other = pq.read_table(tmp_path / "c" / "interactions.parquet")
    assert not other.equals(pq.read_table(tmp_path / "a" / "interactions.parquet"))


def test_chunks_do_not_change_the_population(tmp_path: Path) -> None:
    # several chunks: customers keep increasing ids and chunk-local ticket numbering continues
    generate_world(tmp_path / "w", WorldConfig(customers=500, seed=2, chunk_customers=120))
    tables = _load(tmp_path / "w")
    assert tables["customers"]["customer_id"].is_monotonic_increasing
    assert tables["customers"]["signup_date"].is_monotonic_increasing
    assert tables["tickets"]["ticket_id"].is_unique
    assert pq.ParquetFile(tmp_path / "w" / "interactions.parquet").num_row_groups == 5


def test_csv_and_parquet_hold_the_same_data(tmp_path: Path) -> None:
    config = WorldConfig(customers=300, seed=9)
    generate_world(tmp_path / "pq", config)
    generate_world(tmp_path / "csv", WorldConfig(customers=300, seed=9, fmt="csv"))
    from_csv = _load(tmp_path / "csv", "csv")
    from_pq = _load(tmp_path / "pq")
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(from_csv[name], from_pq[name], check_exact=False, obj=name)


# --- directory handling and CLI -------------------------------------------------------------------


def test_existing_directory_is_refused_and_overwrite_replaces(tmp_path: Path) -> None:
    out = tmp_path / "w"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(SynthError, match="not empty"):
        generate_world(out, WorldConfig(customers=300, seed=1))
    assert (out / "keep.txt").exists()
    generate_world(out, WorldConfig(customers=300, seed=1), overwrite=True)
    assert not (out / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # no temp dirs left over


def test_a_failed_run_leaves_nothing_behind(tmp_path: Path) -> None:
    def boom(done: int, total: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        generate_world(tmp_path / "w", WorldConfig(customers=300, seed=1), progress=boom)
    assert list(tmp_path.iterdir()) == []


def _cli(*args: str) -> object:
    import cli.world  # noqa: F401  (registers the command)
    from cli.app import app

    return CliRunner().invoke(app, ["generate", *args])


def test_cli_generates_and_refuses(tmp_path: Path) -> None:
    out = tmp_path / "w"
    ok = _cli("--out", str(out), "--customers", "300", "--seed", "1", "--format", "csv")
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.csv" for n in TABLE_NAMES] + ["world.json"]
    )
    again = _cli("--out", str(out), "--customers", "300", "--seed", "1")
    assert again.exit_code != 0  # type: ignore[attr-defined]
    assert "not empty" in again.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--customers", "0"), "--customers must be at least 1"),
        (("--customers", "10", "--items", "5"), "--items must be at least 200"),
        (("--customers", "10", "--format", "xml"), "--format must be one of"),
        (("--customers", "10", "--end", "31/10/2026"), "--end must be YYYY-MM-DD"),
    ],
)
def test_cli_bad_arguments_exit_non_zero(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = _cli("--out", str(tmp_path / "w"), "--seed", "1", *args)
    assert result.exit_code != 0  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "w").exists()


# --- learnable structure ------------------------------------------------------------------------


def _window_rate(events: pd.DataFrame, lo: pd.Series, hi: pd.Series) -> float:
    """Events per customer-day inside per-customer windows [lo, hi)."""
    t = events.join(lo.rename("lo"), on="customer_id").join(hi.rename("hi"), on="customer_id")
    inside = (t["timestamp"] >= t["lo"]) & (t["timestamp"] < t["hi"])
    days = ((hi - lo).dt.total_seconds() / 86_400).clip(lower=0).sum()
    return float(inside.sum() / days)


def test_churners_decline_before_cancelling_and_stop_after(world: dict[str, pd.DataFrame]) -> None:
    customers = world["customers"].set_index("customer_id")
    it = world["interactions"]
    cancelled = customers["cancelled_at"].dropna()
    assert 0.05 < len(cancelled) / len(customers) < 0.25
    # from a week after signup (or the window start): skips the signup session
    signup = customers["signup_date"].reindex(cancelled.index)
    first = signup.where(signup > END - 730 * DAY, END - 730 * DAY) + 7 * DAY
    has_history = (cancelled - first) > 200 * DAY
    c, f = cancelled[has_history], first[has_history]
    assert len(c) > 30
    mine = it[it["customer_id"].isin(c.index)]
    late = _window_rate(mine, c - 60 * DAY, c)
    early = _window_rate(mine, f, c - 90 * DAY)
    assert late < 0.7 * early
    after = mine.join(c.rename("cancel"), on="customer_id")
    assert not (after["timestamp"] > after["cancel"]).any()


def test_non_churners_keep_a_steady_or_growing_rate() -> None:
    start, end = 0, 730 * 86_400
    pop = build_population(np.random.default_rng(0), 5000, 34, start, end)
    stay = np.flatnonzero(~pop.churned & (pop.active_lo < end // 2))
    early = pop.intensity(stay, np.full(stay.size, end // 2))
    late = pop.intensity(stay, np.full(stay.size, end - 1))
    assert (late >= early).all() and (late > 0).all()
    gone = np.flatnonzero(pop.churned & (pop.active_hi - pop.decline_s > pop.active_lo))
    before = pop.intensity(gone, pop.active_hi[gone] - pop.decline_s[gone] - 1)
    at_end = pop.intensity(gone, pop.active_hi[gone] - 1)
    assert (at_end < 0.5 * before).all()
    assert (pop.intensity(gone, pop.active_hi[gone]) == 0).all()


def test_unresolved_unhappy_tickets_cluster_before_churn(world: dict[str, pd.DataFrame]) -> None:
    tk = world["tickets"]
    cancelled = set(world["customers"].dropna(subset=["cancelled_at"])["customer_id"])
    it = world["interactions"]
    active = set(it.loc[it["timestamp"] > END - 30 * DAY, "customer_id"])  # surely not churned
    churner = tk["customer_id"].isin(cancelled)
    staying = tk["customer_id"].isin(active)
    unresolved = ~tk["resolved"].astype(bool)
    assert unresolved[churner].mean() > 2 * unresolved[staying].mean()
    assert churner.sum() / len(cancelled) > 2 * staying.sum() / len(active)
    sat = tk.groupby(unresolved)["satisfaction"].mean()
    assert sat[True] + 1.5 < sat[False]
    assert 0.6 < tk["satisfaction"].notna().mean() < 0.8
    assert set(tk["kind"]) == {"billing", "delivery", "product", "account"}
    resolved = tk[tk["resolved"].astype(bool)]
    assert (resolved["resolved_at"] > resolved["created_at"]).all()
    assert tk.loc[unresolved, "resolved_at"].isna().all()


def test_lead_conversion_depends_on_source_engagement_and_age(
    world: dict[str, pd.DataFrame],
) -> None:
    leads = world["leads"]
    assert len(leads) == 1000
    rate = leads.groupby("source")["converted"].mean()
    assert rate["referral"] > 1.5 * rate["web"]
    assert rate["web"] > rate["outbound"]
    by_meetings = leads.groupby(leads["meetings"] > 0)["converted"].mean()
    assert by_meetings[True] > by_meetings[False]
    recent = leads["created_at"] > END - 30 * DAY
    assert leads.loc[recent, "converted"].mean() < 0.5 * leads["converted"].mean()
    conv = leads[leads["converted"].astype(bool)]
    lag = (conv["converted_at"] - conv["created_at"]).dt.total_seconds() / 86_400
    assert lag.between(1, 90).all()
    assert leads.loc[~leads["converted"].astype(bool), "converted_at"].isna().all()


def test_complement_pairs_are_bought_together(purchases: pd.DataFrame) -> None:
    bought = purchases.groupby(["customer_id", "category"]).size().unstack(fill_value=0) > 0
    for main, accessory in [
        ("phones", "phone_cases"),
        ("laptops", "laptop_bags"),
        ("printers", "printer_ink"),
    ]:
        with_main = bought.loc[bought[main], accessory].mean()
        assert with_main > 3 * bought[accessory].mean(), (main, accessory)


def test_consumables_are_bought_again(purchases: pd.DataFrame) -> None:
    consumable = {
        "printer_ink",
        "coffee_beans",
        "charcoal",
        "razor_blades",
        "fish_food",
        "diapers",
        "skincare",
        "vitamins",
    }
    pairs = purchases.groupby(["customer_id", "item_id", "category"]).size().reset_index()
    repeat = (pairs[0] > 1).groupby(pairs["category"].isin(consumable)).mean()
    assert repeat[True] > 3 * repeat[False]


def test_customers_keep_to_a_price_tier(
    world: dict[str, pd.DataFrame], purchases: pd.DataFrame
) -> None:
    items = world["items"]
    pct = items.groupby("category")["price"].rank(pct=True).rename("pct")
    # one row per distinct item: repeat purchases of one item would correlate trivially
    buys = purchases.drop_duplicates(["customer_id", "item_id"])
    buys = buys.join(pct.set_axis(items["item_id"]), on="item_id")
    buys = buys[buys.groupby("customer_id")["pct"].transform("size") >= 4]
    half = buys.groupby("customer_id").cumcount() % 2
    split = buys.groupby(["customer_id", half])["pct"].mean().unstack()
    assert split[0].corr(split[1]) > 0.3  # the preferred tier shows in either half


def test_referred_customers_are_more_active_and_items_long_tailed(
    world: dict[str, pd.DataFrame], purchases: pd.DataFrame
) -> None:
    customers = world["customers"]
    per_customer = world["interactions"].groupby("customer_id").size()
    counts = per_customer.reindex(customers["customer_id"], fill_value=0).to_numpy()
    referred = customers["referred_by"].notna().to_numpy()
    # compared on a log scale: activity is heavy-tailed and only ~10% are referred
    assert np.log1p(counts[referred]).mean() > np.log1p(counts[~referred]).mean() + 0.1
    assert 10 < counts.mean() < 35
    per_item = purchases["item_id"].value_counts()
    top = per_item.head(len(world["items"]) // 10).sum()
    assert top > 0.3 * per_item.sum()
    signups = customers["signup_date"]
    assert (signups < pd.Timestamp("2024-10-31")).mean() > 0.05
