"""Benchmark driver: the headless runner against the simulator at the predecessor's latency.

python -m benchmarks.run [SCENARIO ...]   (default: the scenarios of SPEC §7 but 1m)

Each scenario starts a simulator process (generated library, 37 ms per request, a
concurrency ceiling), runs the headless runner in a child process with `--json`, and records
wall time, requests by endpoint, writes and the runner's peak memory (ru_maxrss of the child)
in benchmarks/results/<scenario>.json.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RULES = ROOT / "examples" / "rules.yaml"
LATENCY_MS = 37.0  # the predecessor's measured per-request latency


@dataclass(frozen=True)
class Scenario:
    """One benchmark: a library size, server knobs and the runs to time."""

    name: str
    assets: int
    runs: tuple[str, ...] = ("first", "rerun")
    ceiling: int = 8
    rate_limit: float | None = None
    max_concurrency: int = 4


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("26k", 26_562, max_concurrency=8),
        Scenario("26k-c4", 26_562, runs=("first",)),
        Scenario("100k", 100_000, max_concurrency=8),
        Scenario("1m", 1_000_000, runs=("first",), max_concurrency=8),
        Scenario("26k-throttled", 26_562, runs=("first",), rate_limit=40.0, max_concurrency=8),
    )
}
DEFAULT = ("26k", "26k-c4", "100k", "26k-throttled")


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(scenario: Scenario, port: int) -> tuple[subprocess.Popen[str], str]:
    """Start the simulator; return the process and the API key once it listens."""
    cmd = [
        sys.executable,
        "-m",
        "tests.sim",
        "--port",
        str(port),
        "--generate",
        str(scenario.assets),
        "--seed",
        "1",
        "--latency-ms",
        str(LATENCY_MS),
        "--max-concurrency",
        str(scenario.ceiling),
    ]
    if scenario.rate_limit:
        cmd += ["--rate-limit", str(scenario.rate_limit)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert proc.stdout is not None
    key = ""
    for line in proc.stdout:
        if line.startswith("api_key "):
            key = line.split(" ", 1)[1].strip()
            break
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, key
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("simulator did not start")


def run_headless(url: str, key: str, scenario: Scenario, cache: Path) -> dict[str, Any]:
    """One headless run in a child process; returns the report plus wall time and memory."""
    cmd = [
        sys.executable,
        "-m",
        "custom_components.immich_autotag",
        "--url",
        url,
        "--api-key",
        key,
        "--rules",
        str(RULES),
        "--json",
        "--cache",
        str(cache),
        "--max-concurrency",
        str(scenario.max_concurrency),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves to read its rusage
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    report: dict[str, Any] = json.loads(out)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    return {
        "wall_seconds": round(wall, 2),
        "exit_code": proc.returncode,
        "peak_memory_mb": round(peak, 1),
        "status": report["status"],
        "requests": report["api"]["requests"],
        "writes": report["api"]["writes"],
        "retries": report["api"]["retries"],
        "throttled_seconds": report["api"]["throttled_seconds"],
        "requests_by_endpoint": report["api"]["by_endpoint"],
        "changes": report["changes"],
        "phase_seconds": report["phase_seconds"],
        "assets_total": report["assets_total"],
        "assets_in_scope": report["assets_in_scope"],
        "status_counts": report["status_counts"],
    }


def bench(scenario: Scenario) -> dict[str, Any]:
    """Run one scenario and write its result file."""
    port = free_port()
    started = time.perf_counter()
    sim, key = start_simulator(scenario, port)
    setup = time.perf_counter() - started
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "assets": scenario.assets,
        "latency_ms": LATENCY_MS,
        "server_concurrency_ceiling": scenario.ceiling,
        "server_rate_limit_per_s": scenario.rate_limit,
        "client_max_concurrency": scenario.max_concurrency,
        "simulator_startup_seconds": round(setup, 1),
        "runs": {},
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "albums.json"
            for name in scenario.runs:
                run = run_headless(f"http://127.0.0.1:{port}", key, scenario, cache)
                result["runs"][name] = run
                print(
                    f"{scenario.name} {name}: {run['wall_seconds']} s, {run['requests']} requests,"
                    f" {run['writes']} writes, {run['peak_memory_mb']} MB, {run['status']}",
                    flush=True,
                )
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{scenario.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str]) -> int:
    """Run the named scenarios (or the default set)."""
    names = argv or list(DEFAULT)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {unknown}; known: {sorted(SCENARIOS)}")
        return 2
    for name in names:
        bench(SCENARIOS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
