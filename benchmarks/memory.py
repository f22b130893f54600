"""Memory of a first run of the headless command, without latency.

python -m benchmarks.memory [--trace] [--library-profile P] ASSETS [ASSETS ...]

For each size: a simulator in another process (no latency, 8 workers) and the command in a
child process (`memory_run`) with a journal and an album cache, as a user runs it. Prints per
size the peak resident memory (and per asset), the objects the garbage collector tracks after
the snapshot and after planning with the CPU time of a full collection there, and with
`--trace` the source lines holding the most memory at the traced peak. Results:
results/memory.json (one entry per profile, size and label, replaced when re-measured).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .run import RESULTS, RULES, Scenario, run_child


def measure(assets: int, profile: str, *, trace: bool, containers: bool) -> dict[str, Any]:
    """One first run of a fresh library."""
    flags = [*(["--trace"] if trace else []), *(["--containers"] if containers else [])]
    out = run_child(
        Scenario("memory", profile, assets),
        "benchmarks.memory_run",
        lambda tmp: [str(RULES), f"{tmp}/cache.json", f"{tmp}/journal.jsonl", *flags],
    )
    result: dict[str, Any] = json.loads(out)
    result["peak_rss_bytes_per_asset"] = round(result["peak_rss_mb"] * 2**20 / assets)
    return result


def main(argv: list[str]) -> int:
    """Measure the named sizes; merge them into results/memory.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("assets", type=int, nargs="+")
    parser.add_argument("--library-profile", default="generated")
    parser.add_argument("--trace", action="store_true", help="tracemalloc's top lines")
    parser.add_argument(
        "--containers", action="store_true", help="the tracked objects by references held"
    )
    parser.add_argument("--label", default="now", help="the code's state, e.g. before/after")
    args = parser.parse_args(argv)
    path = RESULTS / "memory.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for assets in args.assets:
        entry = measure(assets, args.library_profile, trace=args.trace, containers=args.containers)
        entry["load_average"] = os.getloadavg()
        name = f"{args.library_profile} {assets}{' traced' if args.trace else ''}"
        results.setdefault(name, {})[args.label] = entry
        print(f"{name} {args.label}: {json.dumps(entry, indent=1)}", flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
