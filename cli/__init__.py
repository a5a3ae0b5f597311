"""The `valuechain` command line: one module per group of commands."""

from __future__ import annotations

import importlib
import logging
import os

# Each module attaches its commands to the apps in `cli.app` when imported.
_COMMAND_MODULES = (
    "cli.ops",
    "cli.world",
    "cli.recommender",
    "cli.scoring",
    "cli.score",
    "cli.value",
    "cli.export",
)


def main() -> None:
    """Entry point of the `valuechain` console script."""
    # No network but the package registries here: MLflow must not try to send telemetry.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for module in _COMMAND_MODULES:
        importlib.import_module(module)
    from cli.app import app

    app()
