"""`valuechain keys create|list|revoke`: API keys for the service (stored as hashes in Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.app import app
from cli.common import console, fail
from features.api_keys import ApiKeyError, ApiKeyStore, KeyRole
from features.settings import get_settings

keys_app = typer.Typer(
    help="API keys: roles read < write < admin, sent in the X-API-Key header.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@contextmanager
def key_store() -> Iterator[ApiKeyStore]:
    """The key store in the configured Redis (or the embedded one under STATE_DIR)."""
    from features.connect import open_store

    settings = get_settings()
    with open_store(settings, settings.state_dir) as store:
        yield ApiKeyStore(store.client, settings.key_prefix)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A name for the key (who or what uses it).")],
    role: Annotated[
        KeyRole,
        typer.Option(
            help="read: recommendations, scores, profiles, segments; write: + events, "
            "lead scoring; admin: + model listing and reload."
        ),
    ],
) -> None:
    """Create a key and print it once (the last line); only its SHA-256 hash is stored."""
    try:
        with key_store() as keys:
            token = keys.create(name, role)
    except ApiKeyError as exc:
        raise fail(str(exc)) from exc
    console.print(f"created key {name!r} with role {role.value}; it is shown only now:")
    typer.echo(token)


@keys_app.command("list")
def list_keys() -> None:
    """Names, roles and creation times of the stored keys (never the keys)."""
    with key_store() as keys:
        for key in keys.list():
            created = datetime.fromtimestamp(key.created, UTC).isoformat(timespec="seconds")
            typer.echo(f"{key.name}\t{key.role.value}\t{created}")


@keys_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="Name of the key to revoke.")]) -> None:
    """Delete a key; running workers stop accepting it within KEYS_REFRESH_SECONDS."""
    try:
        with key_store() as keys:
            keys.revoke(name)
    except ApiKeyError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"revoked {name}")
