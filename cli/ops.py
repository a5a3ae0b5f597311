"""Operating commands: materialize the cache, serve the API, manage registered models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.app import app, models_app
from cli.common import champion, console, fail, parse_as_of, progress_bar
from features.load import DataError, load_world, read_frame
from features.settings import get_settings
from models.bundle import BundleError
from models.champions import CHURN, LEAD, RECOMMENDER, ChampionError, load_champion
from training import registry

DataOpt = Annotated[
    Path,
    typer.Option(
        "--data", help="Directory with customers, interactions, items, tickets (.parquet or .csv)."
    ),
]


@app.command()
def materialize(
    data: DataOpt,
    as_of: Annotated[
        str | None, typer.Option(help="Feature cut-off (default: last event).")
    ] = None,
    value: Annotated[Path | None, typer.Option(help="Value table from `valuechain value`.")] = None,
    without_models: Annotated[
        bool,
        typer.Option(
            "--without-models",
            help="Write features only, when no recommender/churn champion "
            "exists yet (no recommender state, no at-risk ranking).",
        ),
    ] = False,
) -> None:
    """Write features, recommender state, churn ranking and feature drift (PSI, also logged to
    MLflow) to Redis as a new cache version."""
    from features.connect import open_store
    from features.materialize import materialize as run

    settings = get_settings()
    cutoff = parse_as_of(as_of)
    try:
        tables = load_world(data)
        value_table = _value_table(value) if value else None
    except DataError as exc:
        raise fail(str(exc)) from exc
    models, versions = ({}, {}) if without_models else _champions()
    with open_store(settings, settings.state_dir) as store, progress_bar("materializing") as update:
        report = run(
            store,
            tables,
            cutoff,
            recommender=models.get("recommender"),
            churn=models.get("churn"),
            lead=models.get("lead"),
            value_table=value_table,
            model_versions=versions,
            progress=update,
        )
    console.print(
        f"materialized {report.customers:,} customers as of {report.as_of} "
        f"(cache version {report.version}; models {versions})"
    )
    _log_drift(report.drift, versions, report.version)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [env HOST; 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [env PORT; 8000].")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes [env WORKERS; 2].")
    ] = None,
) -> None:
    """Serve the API (uvicorn); starts an embedded Redis when REDIS_URL is unset."""
    import uvicorn

    from features.connect import redis_url
    from service.config import ServiceSettings

    # Each worker pins BLAS to one thread: numpy in several workers would oversubscribe 2 cores.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    settings = ServiceSettings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.workers
    with redis_url(settings, settings.state_dir) as url:
        os.environ["REDIS_URL"] = url
        _print_examples(url, host, port)
        uvicorn.run(
            "service.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )


@models_app.command("list")
def list_models() -> None:
    """Registered versions of each valuechain model with their aliases."""
    settings = get_settings()
    for name in (settings.recommender_model, settings.churn_model, settings.lead_model):
        try:
            versions = registry.list_versions(settings, name)
        except registry.RegistryError as exc:
            console.print(f"{name}: {exc}")
            continue
        for v in versions:
            typer.echo(f"{name}\tv{v.version}\t{','.join(v.aliases) or '-'}\trun {v.run_id}")


@models_app.command()
def promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version to promote.")],
    alias: Annotated[
        str, typer.Option(help="Alias to move (champion or challenger).")
    ] = registry.CHAMPION,
) -> None:
    """Point an alias at a version; the service picks the new champion up within a minute."""
    try:
        registry.set_alias(get_settings(), name, version, alias)
    except registry.RegistryError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{name}@{alias} -> version {version}")


@models_app.command()
def rollback(name: Annotated[str, typer.Argument(help="Registered model name.")]) -> None:
    """Move champion back to the version that held it before."""
    try:
        version = registry.rollback(get_settings(), name)
    except registry.RegistryError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{name}@champion -> version {version}")


def _value_table(path: Path) -> Any:
    frame = read_frame(path)
    if "customer_id" not in frame.columns:
        raise DataError(path, "missing required column", column="customer_id")
    if "tags" in frame.columns and frame["tags"].dtype != object:
        # CSV value tables join the tag list with "|".
        frame["tags"] = (
            frame["tags"]
            .fillna("")
            .astype(str)
            .str.split("|")
            .map(lambda tags: [t for t in tags if t])
        )
    return frame.set_index(frame["customer_id"].astype(str)).drop(columns=["customer_id"])


def _champions() -> tuple[dict[str, Any], dict[str, str | None]]:
    recommender, churn = champion(RECOMMENDER), champion(CHURN)
    models: dict[str, Any] = {"recommender": recommender.model, "churn": churn.model}
    versions: dict[str, str | None] = {"recommender": recommender.version, "churn": churn.version}
    try:  # the lead model only feeds drift here: materialize without it, say so
        lead = load_champion(get_settings(), LEAD)
    except (ChampionError, BundleError) as exc:
        console.print(f"[yellow]note:[/] no lead drift ({exc})")
    else:
        models["lead"], versions["lead"] = lead.model, lead.version
    return models, versions


def _log_drift(drift: dict[str, Any], versions: dict[str, str | None], cache: str) -> None:
    """Log drift runs to MLflow and show the worst features; a logging failure only warns."""
    for role, entry in drift.items():
        worst = sorted(entry["psi"].items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"{name} {value:.3f}" for name, value in worst)
        console.print(f"{role} drift (PSI vs training, highest): {shown}")
    if not drift:
        return
    from training.monitoring import log_drift

    try:
        log_drift(get_settings(), drift, versions, cache)
    except Exception as exc:  # the cache is committed; drift logging must not fail the command
        console.print(f"[yellow]warning:[/] drift not logged to MLflow: {exc}")


def _print_examples(url: str, host: str, port: int) -> None:
    """Print curl commands with ids that exist in the cache."""
    from features.redis_store import RedisOnlineStore

    settings = get_settings()
    store = RedisOnlineStore.from_url(url, prefix=settings.key_prefix)
    try:
        top = store.top_ranking("churn", 1)
        customer = top[0][0] if top else "<customer_id>"
    finally:
        store.close()
    base = f"http://{host}:{port}"
    lead = (
        '{"source": "referral", "industry": "retail", "company_size": 120, '
        '"email_opens": 6, "web_visits": 9, "content_downloads": 2, "meetings": 1}'
    )
    lines = [
        f"curl -s {base}/readyz",
        f"curl -s '{base}/v1/customers/{customer}/recommendations?k=5'",
        f"curl -s {base}/v1/customers/{customer}/churn",
        f"curl -s '{base}/v1/customers/at-risk?limit=5'",
        f"curl -s -X POST {base}/v1/leads/score -H 'content-type: application/json' -d '{lead}'",
        f"open {base}/docs",
    ]
    typer.echo("Try:\n  " + "\n  ".join(lines), err=True)
