"""Benchmark driver: the headless command against the simulator, with default settings.

python -m benchmarks.run [SCENARIO ...]   (default: `DEFAULT`; `1m` on request)

Each scenario starts a simulator process — a generated library of a profile
(`tests/sim/generator.py`), 37 ± 5 ms plus 0.15 ms per item per request, a server of N workers
with a queue — and runs the HA-free command (`immich-autotag`, as `pip install .` ships it) in
a child process with its default settings: first run, the run right after it, and a steady
re-run. Before each run the engine, in this process, snapshots and plans the library as the
run will find it to work out the run's request floor (`floor.py`). Recorded per run in
benchmarks/results/<scenario>.json: wall time, CPU time and peak memory of the command,
requests by endpoint, and the server's busy and queue time over the run, with the two ratios
requests ÷ floor and wall ÷ (busy ÷ workers).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from custom_components.immich_autotag.engine.rules_loader import load_rules_file
from tests.sim.timeline import idle_worker_seconds, spans_from_json

from .floor import floor_of_next_run
from .machine import describe
from .timeline import summarise

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RULES = ROOT / "examples" / "rules.yaml"
PACKAGE = ROOT / "custom_components" / "immich_autotag"
LATENCY_MS, JITTER_MS = 32.0, 10.0  # 37 ± 5 ms: Immich v3 measured on the independent library
PER_ITEM_MS = 0.15  # ... plus 0.15 ms per item a request carries or returns
SEED = 1
TIMELINES = os.environ.get("BENCH_TIMELINES")  # a folder: each run's request timeline there


@dataclass(frozen=True)
class Scenario:
    """A library (profile, size), a server (workers, optional 429 limit) and the runs to time."""

    name: str
    profile: str
    assets: int
    workers: int = 8
    runs: tuple[str, ...] = ("first", "second", "steady")
    rate_limit: float | None = None


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("26k", "generated", 26_562),
        Scenario("26k-independent", "independent", 26_562),
        Scenario("26k-independent-2w", "independent", 26_562, workers=2),
        Scenario("26k-independent-24w", "independent", 26_562, workers=24),
        Scenario("100k", "generated", 100_000),
        Scenario("1m", "generated", 1_000_000, runs=("first",)),
        Scenario("26k-throttled", "generated", 26_562, runs=("first",), rate_limit=40.0),
    )
}
DEFAULT = ("26k", "26k-independent", "26k-independent-2w", "26k-independent-24w", "100k")


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(
    scenario: Scenario, port: int, *, latency: bool = True
) -> tuple[subprocess.Popen[str], str]:
    """Start the simulator (without latency: CPU measurements); its process and API key."""
    cmd = [
        sys.executable,
        "-m",
        "tests.sim",
        "--port",
        str(port),
        "--generate",
        str(scenario.assets),
        "--profile",
        scenario.profile,
        "--seed",
        str(SEED),
        "--latency-ms",
        str(LATENCY_MS if latency else 0),
        "--jitter-ms",
        str(JITTER_MS if latency else 0),
        "--latency-per-item-ms",
        str(PER_ITEM_MS if latency else 0),
        "--max-concurrency",
        str(scenario.workers),
        "--no-check-responses",  # the spec checks are the tests' business, not the server's load
        "--timeline",  # each request's arrival, start and end: where the server sat idle
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
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, key
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("simulator did not start")


def headless_package(tmp: Path) -> Path:
    """A folder holding `immich_autotag` as the wheel ships it (cli, engine, immich only)."""
    package = tmp / "immich_autotag"
    package.mkdir()
    for part in ("cli", "engine", "immich", "manifest.json"):
        (package / part).symlink_to(PACKAGE / part)
    return tmp


def sim_call(url: str, path: str, *, post: bool = False) -> Any:
    """A simulator control endpoint (`/__sim/...`)."""
    request = urllib.request.Request(f"{url}{path}", method="POST" if post else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        return json.loads(answer.read())


def run_headless(url: str, key: str, cache: Path, pythonpath: Path) -> dict[str, Any]:
    """One run of the command with default settings; report, wall and CPU time, memory."""
    cmd = [sys.executable, "-m", "immich_autotag.cli", "--url", url, "--api-key", key]
    cmd += ["--rules", str(RULES), "--json", "--quiet", "--cache", str(cache)]
    # The scenario's own journal, as a user's holds their runs: the default one is shared with
    # every other run on this machine, and a run reads back through it for its output names.
    cmd += ["--journal", str(cache.with_name("journal.jsonl"))]
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    memory = MemoryWatch(proc.pid, started)
    memory.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves to read its rusage
    wall = time.perf_counter() - started
    memory.join()
    report: dict[str, Any] = json.loads(out)
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_memory_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "peak_memory_at_seconds": memory.peak_at,  # since the start (compare phase_seconds)
        "exit_code": os.waitstatus_to_exitcode(status),
        "status": report["status"],
        "requests": report["api"]["requests"],
        "writes": report["api"]["writes"],
        "retries": report["api"]["retries"],
        "requests_by_endpoint": report["api"]["by_endpoint"],
        "changes": report["changes"],
        "phase_seconds": report["phase_seconds"],
        "assets_total": report["assets_total"],
        "status_counts": report["status_counts"],
    }


class MemoryWatch(threading.Thread):
    """Samples a process's resident memory twice a second: when it peaked."""

    def __init__(self, pid: int, started: float) -> None:
        super().__init__(daemon=True)
        self._status = Path(f"/proc/{pid}/status")
        self._t0 = started
        self.peak_kib = 0
        self.peak_at: float | None = None

    def run(self) -> None:
        """Until the process is gone."""
        while True:
            try:
                text = self._status.read_text()
            except OSError:
                return
            lines = [line for line in text.splitlines() if line.startswith("VmRSS:")]
            rss = int(lines[0].split()[1]) if lines else 0
            if rss > self.peak_kib:
                self.peak_kib = rss
                self.peak_at = round(time.perf_counter() - self._t0, 1)
            time.sleep(0.5)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_run(  # noqa: PLR0917
    url: str, key: str, name: str, cache: Path, pythonpath: Path, sim_pid: int
) -> dict[str, Any]:
    """The floor, then the run with the server's load, timeline and CPU measured over it."""
    rules = load_rules_file(RULES)
    floor = asyncio.run(floor_of_next_run(url, key, rules, albums_cached=name != "first"))
    sim_call(url, "/__sim/reset-stats", post=True)
    sim_cpu = process_cpu_seconds(sim_pid)
    run = run_headless(url, key, cache, pythonpath)
    run["simulator_cpu_seconds"] = round(process_cpu_seconds(sim_pid) - sim_cpu, 2)
    load = sim_call(url, "/__sim/stats")["load"]
    timeline = sim_call(url, "/__sim/timeline")
    run["timeline"] = summarise(timeline, run["wall_seconds"])
    spans = spans_from_json(timeline)
    load["idleWorkerSeconds"] = round(
        idle_worker_seconds(spans, int(load["workers"]), 0.0, load["elapsedSeconds"]), 2
    )
    if TIMELINES:
        (Path(TIMELINES) / f"{name}.json").write_text(json.dumps(spans))
    server_floor = load["busySeconds"] / load["workers"]
    run["request_floor"] = floor.as_dict()
    run["requests_over_floor"] = round(run["requests"] / floor.total, 3)
    run["server"] = load
    run["server_floor_seconds"] = round(server_floor, 2)
    run["wall_over_server_floor"] = round(run["wall_seconds"] / server_floor, 2)
    return run


def bench(scenario: Scenario) -> dict[str, Any]:
    """Run one scenario and write its result file."""
    machine = describe()  # before the simulator starts: a quiet machine
    port = free_port()
    started = time.perf_counter()
    sim, key = start_simulator(scenario, port)
    result: dict[str, Any] = {
        "scenario": asdict(scenario),
        "server": {
            "latency_ms": f"{LATENCY_MS + JITTER_MS / 2:g} ± {JITTER_MS / 2:g}",
            "per_item_ms": PER_ITEM_MS,
            "workers": scenario.workers,
            "rate_limit_per_s": scenario.rate_limit,
        },
        "client": "default settings",
        "simulator_startup_seconds": round(time.perf_counter() - started, 1),
        "load_average": os.getloadavg(),
        "machine": machine,
        "runs": {},
    }
    url = f"http://localhost:{port}"  # a host name, as users give it
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pythonpath = headless_package(Path(tmp))
            cache = Path(tmp) / "albums.json"
            for name in scenario.runs:
                run = timed_run(url, key, name, cache, pythonpath, sim.pid)
                result["runs"][name] = run
                print(
                    f"{scenario.name} {name}: {run['wall_seconds']} s"
                    f" ({run['wall_over_server_floor']} x busy/workers),"
                    f" {run['requests']} requests ({run['requests_over_floor']} x floor),"
                    f" {run['writes']} writes, {run['cpu_seconds']} s CPU"
                    f" (simulator {run['simulator_cpu_seconds']} s),"
                    f" {run['peak_memory_mb']} MB, {run['status']}",
                    flush=True,
                )
    finally:
        sim.terminate()
        sim.wait(timeout=60)
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


def run_child(
    scenario: Scenario, module: str, args: Callable[[Path], list[str]], *, host: str = "localhost"
) -> str:
    """`python -m MODULE URL KEY *args(tmp)` against a simulator of `scenario` without latency,
    with the package as the wheel ships it (no Home Assistant); its standard output."""
    port = free_port()
    sim, key = start_simulator(scenario, port, latency=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{headless_package(Path(tmp))}{os.pathsep}{ROOT}"
            cmd = [sys.executable, "-m", module, f"http://{host}:{port}", key, *args(Path(tmp))]
            return subprocess.run(  # noqa: S603
                cmd,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": path},
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout
    finally:
        sim.terminate()
        sim.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
