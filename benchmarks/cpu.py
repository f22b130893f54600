"""CPU seconds the engine spends per phase (snapshot, plan, apply), without Home Assistant.

python -m benchmarks.cpu [--profile] [--profile-name NAME] ASSETS [ASSETS ...]

For each size: a simulator in another process (the `generated` profile, or `--library-profile
independent`, no latency, 8 workers) and the engine's run in this process, as the headless
command runs it (default settings, no Home Assistant import): a first run, then a steady
re-run with the album cache warm. Each phase's CPU time is this process's CPU time (all
threads: the plan runs in a worker thread) from the phase's start to its end; the server's CPU
is in the other process. `--profile` also prints the functions that took the most time of
the first run (cProfile, so the totals are inflated). Results: results/cpu.json (one entry
per profile and size, replaced when re-measured).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .run import RESULTS, RULES, Scenario, run_child


def measure(assets: int, profile: str, *, profiled: bool) -> dict[str, Any]:
    """A first run and a steady re-run of one library size (`cpu_run` in a child process)."""
    out = run_child(
        Scenario("cpu", profile, assets),
        "benchmarks.cpu_run",
        lambda _tmp: [str(RULES), *(["--profile"] if profiled else [])],
    )
    runs: dict[str, Any] = json.loads(out)
    if runs.pop("imported_home_assistant"):
        raise RuntimeError("the headless path imported Home Assistant")
    return runs


def main(argv: list[str]) -> int:
    """Measure the named sizes; merge them into results/cpu.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu")
    parser.add_argument("assets", type=int, nargs="+")
    parser.add_argument("--library-profile", default="generated")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of run 1")
    parser.add_argument("--label", default="now", help="the code's state, e.g. before/after")
    args = parser.parse_args(argv)
    path = RESULTS / "cpu.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for assets in args.assets:
        runs = measure(assets, args.library_profile, profiled=args.profile)
        entry = {"load_average": os.getloadavg(), "profiled": args.profile, **runs}
        name = f"{args.library_profile} {assets}"
        results.setdefault(name, {})[args.label] = entry
        for run_name, run in runs.items():
            print(f"{name} {args.label} {run_name}: {run}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
