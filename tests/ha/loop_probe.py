"""How long Home Assistant's event loop is held, in CPU of its thread (tests/ha/test_loop_lag.py).

`LoopProbe` wakes every `TICK` and records, per gap between two wake-ups, the CPU the loop's
thread spent (less garbage collection, reported apart) and the wall time; it also times each
callback the loop runs (a task's step is one), as Home Assistant's slow-callback warning does,
but in CPU. CPU is what a step costs whatever the machine's load; wall time on a busy machine
adds the time other processes had the core.

Diagnostics (`LOOP_LAG_STACKS=FILE`, `LOOP_LAG_GC=FILE`): `StackSampler` writes where the loop
thread was during its long steps, `describe_slow` names the slow callbacks' tasks, `census`
counts the objects a full collection walks.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import traceback
import types
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BOUND_MS = 100.0  # Home Assistant's slow-callback threshold
TICK = 0.01
KEEP_CALLBACKS_FROM = 0.01  # callbacks at least this long (s of CPU) are kept
STACKS_FROM = float(os.environ.get("LOOP_LAG_STACKS_MS", "50")) / 1000


@dataclass
class SlowCallback:
    """A callback that held the loop's thread for at least `KEEP_CALLBACKS_FROM`."""

    gap: int  # the probe's gap it ran in
    cpu: float  # seconds of loop CPU, collections left out
    where: str = ""  # with `describe_slow`: the task and where it was before and after


@dataclass
class LoopProbe:
    """Per gap of the probe: the loop thread's CPU, its collections' CPU, the wall time."""

    cpu_gaps: list[float] = field(default_factory=list)
    gc_gaps: list[float] = field(default_factory=list)  # loop CPU in collections, per gap
    wall_gaps: list[float] = field(default_factory=list)
    full_collections: list[float] = field(default_factory=list)  # wall seconds, any thread
    slow_callbacks: list[SlowCallback] = field(default_factory=list)
    loop_thread: int = 0
    gc_cpu: float = 0.0  # loop-thread CPU in collections so far
    last_cpu: float = field(default_factory=time.thread_time)
    label: str = ""  # the run being measured (the diagnostics name it)
    describe_slow: bool = False
    _done: asyncio.Event = field(default_factory=asyncio.Event)
    _collecting: float | None = None
    _started: dict[int, float] = field(default_factory=dict)  # thread -> wall at its start

    def on_collection(self, phase: str, info: dict[str, int]) -> None:
        """`gc.callbacks`: each collection's time (a full one in any thread holds the GIL, so
        the loop too; only the loop thread's own count in its CPU)."""
        thread, loop = threading.get_ident(), threading.get_ident() == self.loop_thread
        if phase == "start":
            self._started[thread] = time.perf_counter()
            if loop:
                self._collecting = time.thread_time()
            return
        started = self._started.pop(thread, None)
        if info["generation"] == 2 and started is not None:
            self.full_collections.append(time.perf_counter() - started)
        if loop and self._collecting is not None:
            self.gc_cpu += time.thread_time() - self._collecting
            self._collecting = None

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

    def time_callbacks(self) -> Any:
        """Time every callback of the loop thread until the returned function is called."""
        run = asyncio.events.Handle._run
        probe = self

        def timed(handle: asyncio.Handle) -> None:
            if threading.get_ident() != probe.loop_thread:
                run(handle)
                return
            before = _where(handle) if probe.describe_slow else ""
            cpu, in_gc = time.thread_time(), probe.gc_cpu
            run(handle)
            spent = time.thread_time() - cpu - (probe.gc_cpu - in_gc)
            if spent >= KEEP_CALLBACKS_FROM:
                where = f"{probe.label}: {before} -> {_where(handle)}" if before else ""
                probe.slow_callbacks.append(SlowCallback(len(probe.cpu_gaps), spent, where))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]

        def restore() -> None:
            asyncio.events.Handle._run = run  # type: ignore[method-assign]

        return restore

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
            [c for c in self.slow_callbacks if c.gap >= ticks],
        )

    def figures(self) -> dict[str, float | int]:
        """Worst and 99th-percentile gaps in ms; how many steps held the loop past the bound.

        A step is the loop CPU of a gap less its garbage collection: a full collection walks
        every object of the process (Home Assistant's too), whichever code happened to
        allocate when it started; it is reported apart. A gap may hold several callbacks (all
        those ready in one turn of the loop): the worst callback is reported beside it.
        """
        steps = sorted(c - g for c, g in zip(self.cpu_gaps, self.gc_gaps, strict=True))
        cpu, wall = sorted(self.cpu_gaps), sorted(self.wall_gaps)
        worst_callback = max((c.cpu for c in self.slow_callbacks), default=0.0)
        return {
            "ticks": len(cpu),
            "worst_step_ms": ms(steps[-1]),
            "p99_step_ms": ms(steps[int(len(steps) * 0.99)]),
            "worst_callback_ms": ms(worst_callback),
            "worst_cpu_with_gc_ms": ms(cpu[-1]),
            "worst_wall_ms": ms(wall[-1]),
            "p99_wall_ms": ms(wall[int(len(wall) * 0.99)]),
            "full_collections": len(self.full_collections),
            "worst_full_collection_ms": ms(max(self.full_collections, default=0.0)),
            "steps_over_bound": sum(step * 1000 > BOUND_MS for step in steps),
        }

    def slow_lines(self) -> str:
        """`describe_slow`: the slow callbacks, the slowest first."""
        ranked = sorted(self.slow_callbacks, key=lambda c: -c.cpu)
        return "".join(f"{c.cpu * 1000:.0f} ms  {c.where}\n" for c in ranked if c.where)


def ms(seconds: float) -> float:
    """Seconds as milliseconds, one decimal."""
    return round(seconds * 1000, 1)


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


class StackSampler(threading.Thread):
    """Where the loop thread spends the steps past `LOOP_LAG_STACKS_MS` (default 50).

    Samples the loop thread's stack every 2 ms of wall time; a step is the time between two
    wake-ups of the probe. For each step whose loop CPU passed the threshold, writes the
    stacks sampled in it, the most frequent first (the longest steps first).
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


def census(probe: LoopProbe, before: dict[str, Any] | None) -> dict[str, Any]:
    """The objects a full collection walks, by class, and what one costs now.

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
        "full_collection_cpu_ms": ms(cpu),
        "full_collection_wall_ms": ms(wall),
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


async def census_in_apply(entry: Any, probe: LoopProbe, found: dict[str, Any]) -> None:
    """Censuses while the first run applies (its library, plan and applier alive)."""
    coordinator = entry.runtime_data.coordinator
    while not (probe.label == "first run" and coordinator.data.state == "applying"):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    for second in (1, 3, 6):
        await asyncio.sleep(second)
        found[f"first run, applying + {second} s"] = census(probe, found["before runs"])
