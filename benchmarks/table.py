"""Render benchmarks/results/*.json as the README's markdown tables (printed to stdout)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = (
    "26k",
    "26k-independent",
    "26k-independent-2w",
    "26k-independent-24w",
    "100k",
    "1m",
    "26k-throttled",
)
HEADER = (
    "| profile | assets | server | run | wall | ÷ (busy ÷ workers) | requests | ÷ floor"
    " | writes | CPU | peak memory | machine |"
)


def _server(data: dict[str, Any]) -> str:
    server = data["server"]
    text = f"{server['workers']} workers"
    if server.get("rate_limit_per_s"):
        text += f", 429 over {server['rate_limit_per_s']:g}/s"
    return text


def _machine(data: dict[str, Any]) -> str:
    """The reference workload's time where the scenario ran (benchmarks/machine.py)."""
    machine = data.get("machine")
    return f"ref. {machine['reference_seconds']} s" if machine else "not recorded"


def rows() -> list[str]:
    """One table row per recorded run of a scenario."""
    out = []
    files = {p.stem: p for p in RESULTS.glob("*.json")}
    for name in sorted(files, key=lambda n: (ORDER.index(n) if n in ORDER else 99, n)):
        data = json.loads(files[name].read_text())
        if not isinstance(data.get("scenario"), dict):  # not a scenario (e.g. loop-lag-ha.json)
            continue
        scenario = data["scenario"]
        for run_name, run in data["runs"].items():
            out.append(
                f"| {scenario['profile']} | {scenario['assets']:,} | {_server(data)}"
                f" | {run_name} | {run['wall_seconds']:,} s | {run['wall_over_server_floor']}"
                f" | {run['requests']:,} | {run['requests_over_floor']}"
                f" | {run['writes']:,} | {run['cpu_seconds']} s | {run['peak_memory_mb']:,} MB"
                f" | {_machine(data)} |"
            )
    return out


def loop_lag_ha() -> list[str]:
    """The event-loop lines measured through Home Assistant (tests/ha/test_loop_lag.py)."""
    path = RESULTS / "loop-lag-ha.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    load = ", ".join(f"{x:.1f}" for x in data.get("load_average", ()))
    return [
        f"- Home Assistant, {data['assets']:,} assets, {name}: longest step"
        f" {run['worst_step_ms']} ms of loop CPU (longest callback"
        f" {_callback(run)}; {run['steps_over_bound']} over"
        f" {data['bound_ms']:g} ms); {run['full_collections']} full garbage collections,"
        f" the longest {run['worst_full_collection_ms']} ms wall; load average {load}"
        for name, run in data["runs"].items()
    ]


def _callback(run: dict[str, Any]) -> str:
    worst = run.get("worst_callback_ms")
    if worst is None:
        return "not measured"
    return f"{worst} ms" if worst else "under 10 ms"


def cpu() -> list[str]:
    """CPU seconds per phase, before and after (results/cpu.json)."""
    path = RESULTS / "cpu.json"
    if not path.exists():
        return []
    out = [
        "| library | run | code | snapshot | plan | apply | total |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for library, labels in json.loads(path.read_text()).items():
        for run_name in ("first", "steady"):
            for label, entry in labels.items():
                if not isinstance(entry, dict) or run_name not in entry:  # e.g. the notes
                    continue
                run = entry[run_name]
                phases = run["cpu_by_phase"]
                out.append(
                    f"| {library} | {run_name} | {label} | {phases['snapshot']} s"
                    f" | {phases['plan']} s | {phases['apply']} s | {run['cpu_seconds']} s |"
                )
    return out


def main() -> int:
    """Print the tables."""
    print(HEADER)
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows():
        print(row)
    lines = loop_lag_ha()
    if lines:
        print()
        print("\n".join(lines))
    table = cpu()
    if table:
        print()
        print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
