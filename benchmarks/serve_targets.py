"""What `serve_wrk.py` loads: the request inputs on disk, the targets, and the other servers.

Inputs are files the lua scripts read (one customer id, item id or JSON body a line), written
once per run from customers that are in the cache, so every request finds its customer.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from serve_common import REPO, free_port, spawn, vc_command

POST = "post_bodies.lua"
LEAD_SOURCES = ["referral", "web", "event", "paid_search", "partner"]
LEAD_INDUSTRIES = ["retail", "software", "finance", "health", "manufacturing"]


@dataclass(frozen=True)
class Target:
    """One row of the table: which server, which lua script and its configuration."""

    name: str
    server: str  # "vc", "mlflow" or "bare"
    script: str
    env: dict[str, str]
    limit: str | None = None  # the bare-limit row this one is compared with
    batch: int = 0  # entities per request (batch rows only)
    headers: dict[str, str] = field(default_factory=dict)


def lead_body(rng: random.Random, n: int) -> dict[str, Any]:
    """A lead (n == 0) or a batch of n leads with random attributes."""

    def one() -> dict[str, Any]:
        return {
            "source": rng.choice(LEAD_SOURCES),
            "industry": rng.choice(LEAD_INDUSTRIES),
            "company_size": rng.randint(1, 5000),
            "email_opens": rng.randint(0, 20),
            "web_visits": rng.randint(0, 30),
            "content_downloads": rng.randint(0, 5),
            "meetings": rng.randint(0, 3),
        }

    return one() if n == 0 else {"leads": [one() for _ in range(n)]}


def _lines(path: Path, rows: list[str]) -> str:
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def _plain(value: Any) -> Any:
    """A JSON-safe feature value (NaN -> null)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def write_inputs(
    out: Path, customers: list[str], items: list[str], mlflow_rows: list[dict[str, Any]]
) -> dict[str, str]:
    """Write the id and body files; returns their paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    files = {
        "customers": _lines(out / "customers.txt", customers),
        "items": _lines(out / "items.txt", items),
        "leads": _lines(out / "leads.jsonl", [json.dumps(lead_body(rng, 0)) for _ in range(500)]),
        "mlflow": _lines(
            out / "mlflow_churn.jsonl",
            [json.dumps({"dataframe_records": [row]}) for row in mlflow_rows],
        ),
    }
    for n in (1, 10, 100):
        churn = [json.dumps({"customer_ids": rng.sample(customers, n)}) for _ in range(300)]
        files[f"churn{n}"] = _lines(out / f"churn_batch_{n}.jsonl", churn)
        leads = [json.dumps(lead_body(rng, n)) for _ in range(300)]
        files[f"lead{n}"] = _lines(out / f"lead_batch_{n}.jsonl", leads)
    return files


def mlflow_rows(records: list[Any], feature_names: list[str]) -> list[dict[str, Any]]:
    """The churn pyfunc's input rows (its signature's columns) of cached customer records."""
    return [{n: _plain(r.features.get(n)) for n in feature_names} for r in records]


def targets(files: dict[str, str], headers: dict[str, str]) -> list[Target]:
    """The endpoint rows, in table order; valuechain rows carry the API key header."""

    def get(path: str) -> dict[str, str]:
        return {"VC_WRK_IDS": files["customers"], "VC_WRK_PATH": path}

    def post(path: str, bodies: str) -> dict[str, str]:
        return {"VC_WRK_BODIES": files[bodies], "VC_WRK_PATH": path}

    events = {"VC_WRK_IDS": files["customers"], "VC_WRK_ITEMS": files["items"]}
    recs, churn = "/v1/customers/{id}/recommendations?k=10", "/v1/customers/{id}/churn"
    vc = partial(Target, server="vc", headers=headers)
    return [
        vc("valuechain recommendations", script="get_ids.lua", env=get(recs), limit="topk"),
        vc("valuechain churn", script="get_ids.lua", env=get(churn), limit="lgbm"),
        vc(
            "valuechain lead score", script=POST, env=post("/v1/leads/score", "leads"), limit="lgbm"
        ),
        vc(
            "valuechain customer 360",
            script="get_ids.lua",
            env=get("/v1/customers/{id}"),
            limit="lgbm",
        ),
        vc(
            "valuechain event+recs (per request)",
            script="event_then_recs.lua",
            env=events,
            limit="topk",
        ),
        Target("mlflow models serve churn", "mlflow", POST, post("/invocations", "mlflow"), "lgbm"),
        Target("bare: Redis GET + numpy top-k", "bare", "get_ids.lua", get("/topk/{id}")),
        Target("bare: Redis GET + LightGBM", "bare", "get_ids.lua", get("/churn/{id}")),
    ]


def batch_targets(files: dict[str, str], headers: dict[str, str]) -> list[Target]:
    """POST /v1/churn/score and /v1/leads/score at batch 1, 10, 100."""
    rows = []
    for path, kind in (("/v1/churn/score", "churn"), ("/v1/leads/score", "lead")):
        for n in (1, 10, 100):
            env = {"VC_WRK_BODIES": files[f"{kind}{n}"], "VC_WRK_PATH": path}
            rows.append(
                Target(f"POST {path}", "vc", "post_bodies.lua", env, batch=n, headers=headers)
            )
    return rows


def api_key(given: str | None, env: dict[str, str], log: Path) -> str | None:
    """`given`, else a new write key when this checkout has `valuechain keys`, else None."""
    if given:
        return given
    with log.open("ab") as out:
        probe = subprocess.call(
            vc_command(["keys", "--help"]), cwd=REPO, env=env, stdout=out, stderr=out
        )
    if probe != 0:
        return None  # a service without API keys (before issue 12)
    done = subprocess.run(
        vc_command(["keys", "create", "--name", "bench", "--role", "write"]),
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"valuechain keys create failed: {done.stderr.strip() or done.stdout}")
    return done.stdout.strip().splitlines()[-1].strip()  # the key is the last line


@dataclass(frozen=True)
class Server:
    """A started (not yet ready) server: its process group, base URL and readiness path."""

    proc: subprocess.Popen[bytes]
    base: str
    ready: str
    log: Path


def start_vc(env: dict[str, str], workers: int, log: Path) -> Server:
    """`valuechain serve` with `workers` workers on a free port."""
    port = free_port()
    cmd = vc_command(["serve", "--port", str(port), "--workers", str(workers)])
    return Server(spawn(cmd, env, log), f"http://127.0.0.1:{port}", "/readyz", log)


def start_mlflow(run_id: str, env: dict[str, str], workers: int, log: Path) -> Server:
    """`mlflow models serve` of the churn run's pyfunc (`--env-manager local`)."""
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"runs:/{run_id}/scorer"]
    cmd += ["-h", "127.0.0.1", "-p", str(port), "-w", str(workers), "--env-manager", "local"]
    # The pyfunc is "models from code": it imports models.scoring from this checkout.
    # mlflow execs `uvicorn` by name: the interpreter's bin directory must be on PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    mlflow_env = dict(env, PYTHONPATH=str(REPO), PATH=path)
    return Server(spawn(cmd, mlflow_env, log), f"http://127.0.0.1:{port}", "/ping", log)


def start_bare(bare_env: dict[str, str], env: dict[str, str], workers: int, log: Path) -> Server:
    """The bare-limit app under uvicorn with `workers` workers."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bare_limit:create_app", "--factory"]
    cmd += ["--app-dir", str(REPO / "benchmarks"), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "info"]
    return Server(spawn(cmd, dict(env, **bare_env), log), f"http://127.0.0.1:{port}", "/ping", log)
