"""No run step holds Home Assistant's event loop for long (HA flags callbacks over 100 ms).

The real runner, started through the `run` action as a user would, plans and applies a
generated library served by the simulator in another process (so the server's work is not on
this loop), with the test plugin's asyncio debug mode on (as when the issue was found). The
probe (`loop_probe.py`) measures the CPU of the loop's thread per 10 ms gap and per callback,
garbage collection apart; no step may pass 100 ms. `LOOP_LAG_ASSETS` sets the library size
(`scripts/bench` measures 100,000), `LOOP_LAG_RESULT` names a JSON file for the figures;
diagnostics: `LOOP_LAG_STACKS=FILE` (what the loop ran in its long steps, and its slow
callbacks in FILE.callbacks), `LOOP_LAG_GC=FILE` (the objects a full collection walks).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from . import loop_probe
from .conftest import ENTRY_ID, call_run, immich_entry, options, setup_integration
from .loop_probe import BOUND_MS, TICK, LoopProbe, StackSampler, ms

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "examples" / "rules.yaml"
ASSETS = int(os.environ.get("LOOP_LAG_ASSETS", "10000"))


@dataclass
class ExternalSim:
    """A simulator process serving a generated library."""

    url: str
    key: str


@pytest.fixture
def external_sim(loopback: None) -> Iterator[ExternalSim]:
    """`python -m tests.sim --generate ASSETS` on a free port (no latency: the most work per
    second for the loop), stopped after the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    cmd = [sys.executable, "-m", "tests.sim", "--port", str(port), "--generate", str(ASSETS)]
    cmd += ["--seed", "1", "--max-concurrency", "8", "--no-check-responses"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        key = next(
            line.split(" ", 1)[1].strip() for line in proc.stdout if line.startswith("api_key")
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield ExternalSim(f"http://localhost:{port}", key)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
async def probe(hass: HomeAssistant) -> AsyncIterator[LoopProbe]:
    """The probe, running on Home Assistant's loop for the test."""
    out = os.environ.get("LOOP_LAG_STACKS")
    probe = LoopProbe(describe_slow=out is not None)
    gc.callbacks.append(probe.on_collection)
    task = hass.loop.create_task(probe.beat())
    restore = probe.time_callbacks()
    sampler = None
    if out is not None:
        sampler = StackSampler(probe, threading.get_ident(), Path(out))
        sampler.start()
    try:
        yield probe
    finally:
        probe.stop()
        await task
        restore()
        gc.callbacks.remove(probe.on_collection)
    if sampler is not None:
        sampler.stopped.set()
        await hass.async_add_executor_job(sampler.join)
        path = Path(f"{sampler.out}.callbacks")
        await hass.async_add_executor_job(path.write_text, probe.slow_lines())


async def test_no_run_step_blocks_the_loop(
    hass: HomeAssistant, external_sim: ExternalSim, probe: LoopProbe, real_store_writes: None
) -> None:
    """A dry run, the first run and a steady re-run: no step over 100 ms of loop CPU."""
    entry = immich_entry(
        external_sim.url,
        external_sim.key,
        "sim-user",
        title="Me",
        entry_id=ENTRY_ID,
        options=options(rules=RULES.read_text()),
    )
    await setup_integration(hass, entry)
    started, cpu = time.perf_counter(), time.thread_time()
    gc.collect()  # what a full collection of this Home Assistant costs without a library
    baseline, baseline_cpu = time.perf_counter() - started, time.thread_time() - cpu
    census: dict[str, Any] = {}
    watch = None
    if os.environ.get("LOOP_LAG_GC"):
        census["before runs"] = loop_probe.census(probe, None)
        watch = hass.loop.create_task(loop_probe.census_in_apply(entry, probe, census))
    await asyncio.sleep(3 * TICK)  # the probe records that gap before the runs
    runs: dict[str, dict[str, object]] = {}
    for name, dry_run in (("dry run", True), ("first run", False), ("steady re-run", False)):
        ticks, collections = len(probe.cpu_gaps), len(probe.full_collections)
        probe.label = name
        started = time.perf_counter()
        response = await call_run(hass, dry_run=dry_run)
        assert response is not None
        assert response["status"] == "success", response
        await asyncio.sleep(3 * TICK)  # the probe records the run's last gap
        part = probe.since(ticks, collections)
        runs[name] = {
            "changes": response["changes_total"],
            "wall_seconds": round(time.perf_counter() - started, 1),
            **part.figures(),
        }
    assert runs["first run"]["changes"] != 0
    assert runs["steady re-run"]["changes"] == 0
    if out := os.environ.get("LOOP_LAG_GC"):
        assert watch is not None
        watch.cancel()
        census["after runs"] = loop_probe.census(probe, census["before runs"])
        text = json.dumps(census, indent=1) + "\n"
        await hass.async_add_executor_job(Path(out).write_text, text)
    if out := os.environ.get("LOOP_LAG_RESULT"):
        result = {
            "assets": ASSETS,
            "profile": "generated",
            "path": "Home Assistant: the run action, the coordinator, the real runner",
            "settings": "default options; simulator in another process, no latency, 8 workers",
            "bound_ms": BOUND_MS,
            "full_collection_before_runs_ms": ms(baseline),
            "full_collection_before_runs_cpu_ms": ms(baseline_cpu),
            "load_average": os.getloadavg(),
            "runs": runs,
        }
        text = json.dumps(result, indent=2) + "\n"
        await hass.async_add_executor_job(Path(out).write_text, text)
    worst = {name: (run["worst_step_ms"], run["steps_over_bound"]) for name, run in runs.items()}
    assert all(run["steps_over_bound"] == 0 for run in runs.values()), worst


def _burn(seconds: float) -> None:
    """Hold the loop's thread for `seconds` of its CPU."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


async def test_the_probe_fails_a_step_over_the_bound(hass: HomeAssistant, probe: LoopProbe) -> None:
    """The measurement can fail: a callback holding the loop for 150 ms of CPU is one step
    over the bound; a full collection is reported apart, not as a step."""
    await asyncio.sleep(3 * TICK)
    hass.loop.call_soon(_burn, 0.15)
    await asyncio.sleep(3 * TICK)
    hass.loop.call_soon(gc.collect)
    await asyncio.sleep(3 * TICK)
    figures = probe.since(0, 0).figures()
    assert figures["steps_over_bound"] == 1
    assert 150 <= figures["worst_step_ms"] < 150 + BOUND_MS
    assert figures["worst_callback_ms"] >= 150
    assert figures["full_collections"] == 1
