#!/usr/bin/env python3
"""Set up valuechain and run its main jobs, needing nothing but Python 3.11.

    python3 dev.py demo   # venv + install, generate a world, train, materialize, serve
    python3 dev.py test   # venv + install, lint gates, then the unit, model and integration tiers

`test` with extra arguments runs just pytest with them (e.g. `dev.py test -k store`);
`lint` runs the gates alone; `demo --customers N` sizes the demo world.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def _check_python() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(
            f"valuechain needs Python 3.11; this is {sys.version.split()[0]} "
            f"(run it with python3.11)"
        )


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def install() -> None:
    """Create .venv and install the project with its dev extras once per pyproject change."""
    _check_python()
    stamp_key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{stamp_key}"
    if stamp.exists():
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # The training stack, Dask and the dev tools: the tests exercise all of them.
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev,train,dask]")
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def demo(customers: int, seed: int, port: int, serve: bool) -> None:
    """Generate a world, train the three models and the value table, materialize, serve."""
    install()
    vc = BIN / "valuechain"
    data = ROOT / "data" / "demo"
    _run(
        vc,
        "generate",
        "--out",
        data,
        "--customers",
        str(customers),
        "--seed",
        str(seed),
        "--overwrite",
    )
    # The nightly retrain: recommender, churn, lead, value table, materialize.
    _run(vc, "train", "all", "--data", data)
    if serve:
        # --demo: (re)creates an admin key named "demo" and prints it with curl examples using it.
        _run(vc, "serve", "--demo", "--port", str(port))


def lint() -> None:
    """The gates CI enforces: ruff lint, ruff format, strict mypy."""
    install()
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")


# Tiers in order of cost: a fast failure stops the run before the slow tiers start.
TIERS = (("unit", "tests/unit"), ("model", "tests/model"), ("integration", "tests/integration"))


def _docker_compose() -> None:
    """Install Debian's docker-compose when missing: the tests validate the compose file with it."""
    if shutil.which("docker-compose") or not shutil.which("apt-get"):
        return
    if os.geteuid() != 0:
        print("docker-compose missing: `sudo apt-get install docker-compose` (test skipped)")
        return
    print("+ apt-get install docker-compose", flush=True)
    cmd = ["apt-get", "install", "-y", "-q", "docker-compose"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)


def test(pytest_args: list[str]) -> None:
    """Run the gates and every test tier; with arguments, only pytest with those arguments."""
    install()
    _docker_compose()
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    if pytest_args:
        _run(BIN / "pytest", *pytest_args, env=env)
        return
    lint()
    for name, path in TIERS:
        print(f"== {name} tests ({path})", flush=True)
        _run(BIN / "pytest", "-q", path, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="create .venv and install valuechain with dev tools")
    d = sub.add_parser("demo", help="install, build a demo world end to end and serve it")
    d.add_argument("--customers", type=int, default=3000)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--port", type=int, default=8000)
    d.add_argument("--no-serve", action="store_true", help="stop after materializing")
    sub.add_parser("lint", help="install and run ruff check, ruff format --check and mypy")
    sub.add_parser("test", help="install, lint, run every test tier (other arguments go to pytest)")
    args, extra = parser.parse_known_args()
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "install":
        install()
    elif args.command == "lint":
        lint()
    elif args.command == "demo":
        demo(args.customers, args.seed, args.port, serve=not args.no_serve)
    else:
        test(extra)


if __name__ == "__main__":
    main()
