"""Run `wrk` (Debian's package) with one of the lua scripts in `lua/` and parse its report.

`wrk --latency` prints the latency distribution; we keep req/s, p50, p99, the number of
responses and the errors (non-2xx/3xx answers plus socket errors), so a run that measured 4xx
pages or timeouts cannot pass as fast.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_COUNT = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed a report we cannot read."""


@dataclass(frozen=True)
class Cell:
    """One wrk run: throughput, latency percentiles and errors."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def median_cell(cells: list[Cell]) -> Cell:
    """The run with the median req/s (the lower middle one of an even count), kept whole so
    its latencies belong to its throughput."""
    ranked = sorted(cells, key=lambda cell: cell.rps)
    return ranked[(len(ranked) - 1) // 2]


def wrk_binary() -> str:
    """Path of wrk, or a clear error saying how to install it."""
    found = shutil.which("wrk")
    if not found:
        raise WrkError("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu)")
    return found


def parse_report(text: str) -> Cell:
    """req/s, p50 and p99 (ms), responses and errors from `wrk --latency` output."""
    latency = {int(q): float(v) * _UNITS_MS[unit] for q, v, unit in _LATENCY.findall(text)}
    rps, count = _RPS.search(text), _COUNT.search(text)
    if rps is None or count is None or set(latency) != {50, 99}:
        raise WrkError(f"cannot read the wrk report:\n{text}")
    non_2xx = _NON_2XX.search(text)
    sockets = _SOCKET.search(text)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(g) for g in sockets.groups()) if sockets else 0
    return Cell(float(rps.group(1)), latency[50], latency[99], int(count.group(1)), errors)


def run_wrk(
    url: str,
    script: str,
    env: dict[str, str],
    *,
    connections: int,
    duration: float,
    headers: dict[str, str] | None = None,
) -> Cell:
    """Load `url` with `lua/<script>` from one wrk thread; `env` configures the script."""
    cmd = [wrk_binary(), "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
    cmd += ["--timeout", "10s", "-s", str(LUA / script)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    run_env = dict(os.environ, VC_WRK_LUA=str(LUA), **env)
    done = subprocess.run(
        [*cmd, url], env=run_env, capture_output=True, text=True, timeout=duration + 60
    )
    if done.returncode != 0:
        raise WrkError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    return parse_report(done.stdout)
