"""Render benchmarks/results/*.json as the README's markdown table (printed to stdout)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PREDECESSOR = (
    "| predecessor 0.81.0 (published) | 26,562 | first | 1 | 3,427 s | 43,892 | — | — | 450 MB |"
)
ORDER = ("26k", "100k", "1m", "26k-throttled")


def rows() -> list[str]:
    """One table row per recorded run."""
    out = []
    files = {p.stem: p for p in RESULTS.glob("*.json")}
    for name in sorted(files, key=lambda n: (ORDER.index(n) if n in ORDER else 99, n)):
        data = json.loads(files[name].read_text())
        if not isinstance(data.get("runs"), dict):  # not a scenario (e.g. loop-lag.json)
            continue
        for run_name, run in data["runs"].items():
            limit = (
                f" (429 over {data['server_rate_limit_per_s']:g}/s)"
                if data.get("server_rate_limit_per_s")
                else ""
            )
            reads = run["requests"] - run["writes"]
            out.append(
                f"| {name}{limit} | {data['assets']:,} | {run_name}"
                f" | {data['client_max_concurrency']} | {run['wall_seconds']:,} s"
                f" | {run['requests']:,} | {reads:,} | {run['writes']:,}"
                f" | {run['peak_memory_mb']:,} MB |"
            )
    return out


def main() -> int:
    """Print the table."""
    header = (
        "| scenario | assets | run | in flight | wall time | requests | reads | writes"
        " | peak memory |"
    )
    print(header)
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    print(PREDECESSOR)
    for row in rows():
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
