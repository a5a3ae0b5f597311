"""The `valuechain` command line: one module per group of commands."""

from __future__ import annotations

import importlib
import logging.config
import os

# Each module attaches its commands to the apps in `cli.app` when imported.
_COMMAND_MODULES = (
    "cli.ops",
    "cli.materialize",
    "cli.world",
    "cli.recommender",
    "cli.recommend",
    "cli.scoring",
    "cli.score",
    "cli.value",
    "cli.train_all",
    "cli.keys",
    "cli.events",
    "cli.export",
)


def main() -> None:
    """Entry point of the `valuechain` console script."""
    # No network but the package registries here: MLflow must not try to send telemetry.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Bundles are a few files: tqdm bars per download only clutter the output.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from features.settings import get_settings
    from service.logs import logging_config

    settings = get_settings()
    # Configured once, here: every command (and `serve`'s workers, via uvicorn) logs alike.
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    for module in _COMMAND_MODULES:
        importlib.import_module(module)
    from cli.app import app

    app()
