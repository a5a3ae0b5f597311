"""Operating commands: serve the API, manage registered models (materialize: cli.materialize)."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, models_app
from cli.common import console, fail
from features.settings import get_settings
from training import registry


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [env HOST; 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [env PORT; 8000].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes [env WORKERS; one per available core]."),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Demo mode [env DEMO]: (re)create an admin key named 'demo', print it and "
            "curl examples that use it. Without --demo the service needs `valuechain keys create`.",
        ),
    ] = False,
) -> None:
    """Serve the API (uvicorn); starts an embedded Redis when REDIS_URL is unset."""
    import uvicorn

    from features.connect import redis_url
    from service.config import ServiceSettings
    from service.logs import logging_config

    # Each worker pins BLAS to one thread: numpy in several workers would oversubscribe 2 cores.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    settings = ServiceSettings()
    demo = demo or settings.demo
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.workers
    _stop_on_sigterm()
    with redis_url(settings, settings.state_dir) as url:
        os.environ["REDIS_URL"] = url
        os.environ["DEMO"] = "true" if demo else "false"
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir(settings.state_dir))
        _print_examples(url, host, port, demo_key(url) if demo else None)
        uvicorn.run(
            "service.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # uvloop and httptools (uvicorn[standard]); "auto" would silently fall back.
            loop="uvloop",
            http="httptools",
            log_config=logging_config(settings.log_format, settings.log_level),
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


def _stop_on_sigterm() -> None:
    """SIGTERM ends `serve` like Ctrl-C: cleanup runs, so the embedded Redis saves and stops.

    uvicorn handles SIGTERM itself while it runs, then re-raises it once shut down; without a
    handler of ours that re-raised signal would kill the process before any cleanup.
    """

    def stop(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _metrics_dir(state_dir: Path) -> Path:
    """A fresh directory for prometheus-client's multi-process files (stale ones would add up)."""
    path = state_dir / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def demo_key(url: str) -> str:
    """(Re)create the admin key named `demo` and return it."""
    from features.api_keys import ApiKeyStore, KeyRole
    from features.redis_store import redis_client

    settings = get_settings()
    client = redis_client(url)
    try:
        return ApiKeyStore(client, settings.key_prefix).replace("demo", KeyRole.admin)
    finally:
        client.close()


def _print_examples(url: str, host: str, port: int, key: str | None) -> None:
    """Print curl commands with ids that exist in the cache (and the demo key)."""
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
    auth = '-H "X-API-Key: $VC_KEY"'
    lines = [
        f"export VC_KEY={key or '<a key from: valuechain keys create --name me --role admin>'}",
        f"curl -s {base}/readyz",
        f"curl -s {auth} '{base}/v1/customers/{customer}/recommendations?k=5'",
        f"curl -s {auth} {base}/v1/customers/{customer}/churn",
        f"curl -s {auth} '{base}/v1/customers/at-risk?limit=5'",
        f"curl -s {auth} -X POST {base}/v1/leads/score -H 'content-type: application/json' "
        f"-d '{lead}'",
        f"curl -s {base}/metrics | head",
        f"open {base}/docs   (Authorize with the key)",
    ]
    if key:
        typer.echo(f"Demo API key (role admin, named 'demo'): {key}", err=True)
    typer.echo("Try:\n  " + "\n  ".join(lines), err=True)
