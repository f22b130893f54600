"""No run step holds Home Assistant's event loop for long (HA flags callbacks over 100 ms).

The real runner, started through the `run` action as a user would, plans and applies a
generated library served by the simulator in another process (so the server's work is not on
this loop). A probe task wakes every 10 ms and measures, for each gap between two wake-ups,
how much CPU time the loop's thread spent: a gap that long in CPU is a step that blocked the
loop (time the operating system gave to other processes on a busy machine is not counted; the
wall-clock gap is recorded beside it). `LOOP_LAG_ASSETS` sets the library size (`scripts/bench`
measures 100,000) and `LOOP_LAG_RESULT` names a JSON file for the figures.
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
import traceback
import types
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from .conftest import ENTRY_ID, call_run, immich_entry, options, setup_integration

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "examples" / "rules.yaml"
ASSETS = int(os.environ.get("LOOP_LAG_ASSETS", "10000"))
BOUND_MS = 100.0  # Home Assistant's slow-callback threshold
TICK = 0.01
STACKS_FROM = float(os.environ.get("LOOP_LAG_STACKS_MS", "50")) / 1000


@dataclass
class LoopProbe:
    """Wakes every `TICK`; per gap, the loop thread's CPU time (and how much of it went to
    garbage collection) and the wall time."""

    cpu_gaps: list[float] = field(default_factory=list)
    gc_gaps: list[float] = field(default_factory=list)  # loop CPU in collections, per gap
    wall_gaps: list[float] = field(default_factory=list)
    full_collections: list[float] = field(default_factory=list)  # seconds each
    loop_thread: int = 0
    gc_cpu: float = 0.0  # loop-thread CPU in collections so far
    last_cpu: float = field(default_factory=time.thread_time)
    label: str = ""  # the run being measured (the stack sampler names it)
    _done: asyncio.Event = field(default_factory=asyncio.Event)
    _collecting: float | None = None
    _wall: float = 0.0

    def on_collection(self, phase: str, info: dict[str, int]) -> None:
        """`gc.callbacks`: the time of each collection the loop thread makes."""
        if threading.get_ident() != self.loop_thread:
            return
        if phase == "start":
            self._collecting, self._wall = time.thread_time(), time.perf_counter()
        elif self._collecting is not None:
            self.gc_cpu += time.thread_time() - self._collecting
            self._collecting = None
            if info["generation"] == 2:
                self.full_collections.append(time.perf_counter() - self._wall)

    async def beat(self) -> None:
        """Until stopped."""
        self.loop_thread = threading.get_ident()
        while not self._done.is_set():
            cpu, wall, in_gc = time.thread_time(), time.perf_counter(), self.gc_cpu
            await asyncio.sleep(TICK)
            self.last_cpu = time.thread_time()
            self.cpu_gaps.append(self.last_cpu - cpu)
            self.gc_gaps.append(self.gc_cpu - in_gc)
            self.wall_gaps.append(time.perf_counter() - wall - TICK)

    @property
    def collecting(self) -> bool:
        """True while the loop thread is in a garbage collection."""
        return self._collecting is not None

    def stop(self) -> None:
        """End the probe at its next wake-up."""
        self._done.set()

    def since(self, ticks: int, collections: int) -> LoopProbe:
        """The figures from a point on (`ticks` gaps, `collections` full collections)."""
        return LoopProbe(
            self.cpu_gaps[ticks:],
            self.gc_gaps[ticks:],
            self.wall_gaps[ticks:],
            self.full_collections[collections:],
        )

    def figures(self) -> dict[str, float | int]:
        """Worst and 99th-percentile gaps in ms; how many steps held the loop past the bound.

        A step is the loop CPU of a gap less its garbage collection: a full collection walks
        every object of the process (Home Assistant's too), whichever code happened to
        allocate when it started; it is reported apart.
        """
        steps = sorted(c - g for c, g in zip(self.cpu_gaps, self.gc_gaps, strict=True))
        cpu, wall = sorted(self.cpu_gaps), sorted(self.wall_gaps)
        return {
            "ticks": len(cpu),
            "worst_step_ms": _ms(steps[-1]),
            "p99_step_ms": _ms(steps[int(len(steps) * 0.99)]),
            "worst_cpu_with_gc_ms": _ms(cpu[-1]),
            "worst_wall_ms": _ms(wall[-1]),
            "p99_wall_ms": _ms(wall[int(len(wall) * 0.99)]),
            "full_collections": len(self.full_collections),
            "worst_full_collection_ms": _ms(max(self.full_collections, default=0.0)),
            "steps_over_bound": sum(step * 1000 > BOUND_MS for step in steps),
        }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class StackSampler(threading.Thread):
    """`LOOP_LAG_STACKS=FILE`: where the loop thread spends the steps past `LOOP_LAG_STACKS_MS`.

    Samples the loop thread's stack every 2 ms of wall time; a step is the time between two
    wake-ups of the probe. For each step whose loop CPU passed the threshold, writes the
    stacks sampled in it, the most frequent first (the longest steps first): a diagnostic for
    finding what blocks the loop.
    """

    def __init__(self, probe: LoopProbe, loop_thread: int, out: Path) -> None:
        super().__init__(daemon=True)
        self.probe, self.loop_thread, self.out = probe, loop_thread, out
        self.clock = time.pthread_getcpuclockid(loop_thread)
        self.steps: list[tuple[float, str, Counter[str]]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        """Until stopped; then write the file."""
        step, late, samples, label = self.probe.last_cpu, 0.0, Counter[str](), ""
        while not self.stopped.wait(0.002):
            if self.probe.last_cpu != step:  # the probe woke: a new step
                if late >= STACKS_FROM:
                    self.steps.append((late, label, samples))
                step, late, samples = self.probe.last_cpu, 0.0, Counter()
            frame = sys._current_frames().get(self.loop_thread)
            if frame is None:
                continue
            late, label = time.clock_gettime(self.clock) - step, self.probe.label
            frames = traceback.extract_stack(frame)
            lines = [
                f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}"
                for f in frames[:-1]
                if "immich_autotag" in f.filename or "homeassistant/" in f.filename
            ]
            inner = frames[-1]
            lines.append(f"{inner.filename.rsplit('/', 2)[-1]}:{inner.lineno} {inner.name}")
            gc_note = "[in a collection] " if self.probe.collecting else ""
            samples[gc_note + " <- ".join(reversed(lines[-8:]))] += 1
        text = []
        for late, label, counts in sorted(self.steps, key=lambda item: -item[0])[:30]:
            text.append(f"{late * 1000:.0f} ms of loop CPU, {label}:\n")
            text.extend(f"  {n:4d} x  {stack}\n" for stack, n in counts.most_common(8))
        self.out.write_text("".join(text))


class CallbackTimer:
    """`LOOP_LAG_STACKS`: the loop CPU of each callback (a task's step is one) past the
    threshold, with the task's coroutine and where it was before and after the step."""

    def __init__(self, probe: LoopProbe) -> None:
        self.probe = probe
        self.slow: list[tuple[float, float, str]] = []  # (cpu, of it in collections, what)
        self._run = asyncio.events.Handle._run

    def install(self) -> None:
        """Time every callback of the loop thread from now on."""
        timer, run = self, self._run

        def timed(handle: asyncio.Handle) -> None:
            if threading.get_ident() != timer.probe.loop_thread:
                run(handle)
                return
            before = _where(handle)
            cpu, in_gc = time.thread_time(), timer.probe.gc_cpu
            run(handle)
            spent = time.thread_time() - cpu
            if spent >= STACKS_FROM:
                what = f"{timer.probe.label}: {before} -> {_where(handle)}"
                timer.slow.append((spent, timer.probe.gc_cpu - in_gc, what))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        """Stop timing."""
        asyncio.events.Handle._run = self._run  # type: ignore[method-assign]

    def lines(self) -> str:
        """The slow callbacks, the slowest first."""
        ranked = sorted(self.slow, key=lambda item: -item[0])
        return "".join(
            f"{cpu * 1000:.0f} ms ({in_gc * 1000:.0f} in gc)  {what}\n"
            for cpu, in_gc, what in ranked
        )


def _where(handle: asyncio.Handle) -> str:
    """A task step's coroutine and the lines it is suspended at, or the callback's name."""
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return repr(callback)[:120]
    coro: Any = task.get_coro()
    frames: list[str] = []
    while coro is not None and len(frames) < 12:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        frames.append(f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return " > ".join(frames[-5:]) or repr(task.get_coro())[:80]


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
    probe = LoopProbe()
    gc.callbacks.append(probe.on_collection)
    task = hass.loop.create_task(probe.beat())
    sampler = timer = None
    if out := os.environ.get("LOOP_LAG_STACKS"):
        sampler = StackSampler(probe, threading.get_ident(), Path(out))
        sampler.start()
        timer = CallbackTimer(probe)
        timer.install()
    yield probe
    probe.stop()
    await task
    gc.callbacks.remove(probe.on_collection)
    if sampler is not None and timer is not None:
        timer.uninstall()
        sampler.stopped.set()
        await hass.async_add_executor_job(sampler.join)
        path = Path(f"{sampler.out}.callbacks")
        await hass.async_add_executor_job(path.write_text, timer.lines())


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
    started = time.perf_counter()
    gc.collect()  # what a full collection of this Home Assistant costs without a library
    baseline = time.perf_counter() - started
    census: dict[str, Any] = {}
    watch = None
    if os.environ.get("LOOP_LAG_GC"):
        census["before runs"] = _census(probe, None)
        watch = hass.loop.create_task(_census_in_apply(entry, probe, census))
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
        census["after runs"] = _census(probe, census["before runs"])
        text = json.dumps(census, indent=1) + "\n"
        await hass.async_add_executor_job(Path(out).write_text, text)
    if out := os.environ.get("LOOP_LAG_RESULT"):
        result = {
            "assets": ASSETS,
            "profile": "generated",
            "path": "Home Assistant: the run action, the coordinator, the real runner",
            "settings": "default options; simulator in another process, no latency, 8 workers",
            "bound_ms": BOUND_MS,
            "full_collection_before_runs_ms": round(baseline * 1000, 1),
            "load_average": os.getloadavg(),
            "runs": runs,
        }
        text = json.dumps(result, indent=2) + "\n"
        await hass.async_add_executor_job(Path(out).write_text, text)
    worst = {name: (run["worst_step_ms"], run["steps_over_bound"]) for name, run in runs.items()}
    assert all(run["steps_over_bound"] == 0 for run in runs.values()), worst


def _census(probe: LoopProbe, before: dict[str, Any] | None) -> dict[str, Any]:
    """`LOOP_LAG_GC`: the objects a full collection walks, by class, and what one costs.

    The census's own CPU is counted as collection time (not a step of the run).
    """
    started = time.thread_time()
    objects = gc.get_objects()
    by_type = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
    functions = Counter(
        f"{o.__module__}.{o.__qualname__}" for o in objects if isinstance(o, types.FunctionType)
    )
    del objects
    cpu, wall = time.thread_time(), time.perf_counter()
    gc.collect()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    ours = {k: n for k, n in by_type.items() if "immich_autotag" in k}
    result: dict[str, Any] = {
        "tracked_objects": by_type.total(),
        "of_our_classes": sum(ours.values()),
        "full_collection_cpu_ms": _ms(cpu),
        "full_collection_wall_ms": _ms(wall),
        "load_average": os.getloadavg(),
        "most": by_type.most_common(25),
        "ours": sorted(ours.items(), key=lambda item: -item[1])[:25],
        "functions": functions.most_common(15),
    }
    probe.gc_cpu += time.thread_time() - started - cpu
    if before is not None:
        old = Counter(dict(before["most"]))
        grown = Counter({k: n - old.get(k, 0) for k, n in by_type.most_common(40)})
        result["grown_since_before_runs"] = grown.most_common(25)
    return result


async def _census_in_apply(entry: Any, probe: LoopProbe, census: dict[str, Any]) -> None:
    """The census once, while the first run applies (the library, plan and applier alive)."""
    coordinator = entry.runtime_data.coordinator
    while not (probe.label == "first run" and coordinator.data.state == "applying"):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    for second in (1, 3, 6):
        await asyncio.sleep(second)
        census[f"first run, applying + {second} s"] = _census(probe, census["before runs"])


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
    assert figures["full_collections"] == 1
