"""The deployment files: the compose stack validates, images install from hashed locks.

No Docker engine runs in CI, so the images are not built here; `docker-compose config` (Debian's
package, installed by `dev.py test`) checks the compose file, and the lock files are checked
against pyproject.toml. The serving image's lock must not carry the training stack.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
TRAINING_ONLY = {"scikit-learn", "matplotlib", "implicit", "mlflow", "dask", "distributed"}


def _pinned(lock: Path) -> dict[str, str]:
    """Package -> pinned version of a `uv pip compile --generate-hashes` lock."""
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", lock.read_text(), flags=re.M)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (interpolated, merged anchors)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [
            binary,
            "-f",
            str(COMPOSE),
            "--env-file",
            str(ROOT / "deploy/stack.env.example"),
            "config",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"docker-compose config rejected the file:\n{result.stderr}"
    resolved: dict[str, Any] = yaml.safe_load(result.stdout)
    return resolved


def test_the_compose_stack_has_every_part(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"redis", "postgres", "mlflow", "api", "exporter", "trainer"} <= set(services)
    assert "--appendonly" in services["redis"]["command"]
    mlflow = services["mlflow"]["command"]  # a string: the shell form
    assert "--backend-store-uri postgresql+psycopg2://" in mlflow
    assert "--artifacts-destination /mlartifacts" in mlflow
    api = services["api"]["environment"]
    assert api["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert api["WORKERS"] == "4"
    assert services["exporter"]["command"][:3] == ["valuechain", "events", "export"]
    assert services["trainer"]["command"] == ["valuechain-nightly"]
    assert "valuechain train all --data" in (ROOT / "deploy/nightly.sh").read_text()


@pytest.mark.parametrize(
    ("dockerfile", "lock"),
    [("Dockerfile", "locks/serve.txt"), ("Dockerfile.train", "locks/train.txt")],
)
def test_images_install_from_a_hashed_lock(dockerfile: str, lock: str) -> None:
    text = (ROOT / dockerfile).read_text()
    assert f"--no-deps --require-hashes -r {lock}" in text
    assert "pip install -e" not in text and "pip install ." not in text
    lines = (ROOT / lock).read_text().splitlines()
    pins = [i for i, line in enumerate(lines) if re.match(r"^[A-Za-z0-9]", line)]
    assert pins
    assert all("--hash=sha256:" in lines[i + 1] for i in pins), "a pin without a hash"


def test_the_serving_lock_has_no_training_stack() -> None:
    serve = _pinned(ROOT / "locks/serve.txt")
    assert TRAINING_ONLY.isdisjoint(serve), TRAINING_ONLY & set(serve)
    assert "mlflow-skinny" in serve


def test_locks_cover_pyproject() -> None:
    """A dependency added to pyproject.toml without re-locking fails here (see README)."""
    project = _project()
    core = _requirement_names(project["dependencies"])
    extras = project["optional-dependencies"]
    train = core | _requirement_names(extras["train"]) | _requirement_names(extras["dask"])
    assert core - set(_pinned(ROOT / "locks/serve.txt")) == set()
    assert train - set(_pinned(ROOT / "locks/train.txt")) == set()
