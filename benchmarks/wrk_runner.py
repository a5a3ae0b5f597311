"""Run `wrk` (Debian's package) with one of the lua scripts in `lua/` and parse its report.

`wrk --latency` prints the latency distribution; we keep req/s, p50, p99, the number of
responses and the errors (non-2xx/3xx answers plus socket errors), so a run that measured 4xx
pages or timeouts cannot pass as fast.

How wrk's connections landed on the server's worker processes is read with `ss` a moment into
the run (`Cell.split`): a uvicorn worker accepts every connection pending when it wakes, so the
8 connections wrk opens at once often land 8/0 or 6/2 on 2 workers, and the server then runs on
one core. That, not the code, is what moved one target's req/s by 2x between runs.
`median_cell` prefers the rounds with the most even split.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LUA = Path(__file__).resolve().parent / "lua"
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_COUNT = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_PID = re.compile(r"pid=(\d+)")
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
    split: tuple[int, ...] = ()  # connections per server process, most first (when seen)

    @property
    def spread(self) -> int:
        """Connections on the busiest process minus on the least busy one (0: even or unseen)."""
        return self.split[0] - self.split[-1] if self.split else 0


def median_cell(cells: list[Cell]) -> Cell:
    """Among the runs whose connections were spread most evenly over the server's processes,
    the one with the median req/s (the lower middle one of an even count), kept whole so its
    latencies belong to its throughput."""
    even = min(cell.spread for cell in cells)
    ranked = sorted((c for c in cells if c.spread == even), key=lambda cell: cell.rps)
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
    processes: int = 0,
) -> Cell:
    """Load `url` with `lua/<script>` from one wrk thread; `env` configures the script.
    `processes`: the server's worker count, so a worker left without connections shows as 0."""
    cmd = [wrk_binary(), "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
    cmd += ["--timeout", "10s", "-s", str(LUA / script)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    run_env = dict(os.environ, VC_WRK_LUA=str(LUA), **env)
    with subprocess.Popen(
        [*cmd, url], env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        time.sleep(min(1.0, duration / 3))
        split = connection_split(urlsplit(url).port or 80, processes)
        try:
            stdout, stderr = proc.communicate(timeout=duration + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise WrkError(f"wrk did not finish within {duration + 60:g} s") from None
    if proc.returncode != 0:
        raise WrkError(f"wrk failed ({proc.returncode}): {stderr.strip() or stdout}")
    cell = parse_report(stdout)
    return Cell(cell.rps, cell.p50_ms, cell.p99_ms, cell.requests, cell.errors, split)


def connection_split(port: int, processes: int = 0) -> tuple[int, ...]:
    """Established connections to local `port` per owning process, most first (`ss -tnp`),
    padded with 0 up to `processes`; () when `ss` is missing or shows no owners."""
    ss = shutil.which("ss")
    if ss is None:
        return ()
    listing = subprocess.run(
        [ss, "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
    ).stdout
    return split_of(listing, processes)


def split_of(listing: str, processes: int = 0) -> tuple[int, ...]:
    """Connections per process of an `ss -Htnp` listing, most first, padded with 0 up to
    `processes`."""
    owners = collections.Counter(
        m.group(1) for line in listing.splitlines() if (m := _PID.search(line))
    )
    if not owners:
        return ()
    counts = sorted(owners.values(), reverse=True)
    return tuple(counts + [0] * (processes - len(counts)))
