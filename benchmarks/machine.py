"""How fast this machine runs Python: a reference workload, so results can be compared.

Wall times scale with the machine: the command's CPU (start-up, parsing pages, planning) and
the simulator's (building answers) both run here. `reference_seconds` times a fixed
pure-Python workload shaped like planning (build records, sort them, look them up); a result
measured where it takes twice as long has about twice the CPU time in it. The ratios to the
floors (requests ÷ request floor, wall ÷ the server's busy time ÷ its workers) carry across
machines better than the seconds do.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

RECORDS = 200_000


def _workload() -> int:
    records = [(f"IMG_{n * 7919 % RECORDS:06d}.jpg", n % 97, f"{n:032x}") for n in range(RECORDS)]
    records.sort(key=lambda r: (r[1], r[0]))
    index = {r[2]: r for r in records}
    return sum(len(index[r[2]][0]) for r in records)


def reference_seconds(repeats: int = 3) -> float:
    """The fewest CPU seconds the reference workload took of `repeats` tries."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        _workload()
        best = min(best, time.process_time() - started)
    return round(best, 3)


def _cpu_model() -> str:
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict[str, Any]:
    """The machine a benchmark ran on: CPU model, cores, Python, the reference time."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "reference_seconds": reference_seconds(),
    }
