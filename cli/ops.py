"""Operating commands: serve the API, manage registered models (materialize: cli.materialize)."""

from __future__ import annotations

import os
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
        f"curl -s {base}/v1/models/lead   # the lead model's fields and an example body",
        f"curl -s -X POST {base}/v1/leads/score -H 'content-type: application/json' -d '{lead}'",
        f"open {base}/docs",
    ]
    typer.echo("Try:\n  " + "\n  ".join(lines), err=True)
