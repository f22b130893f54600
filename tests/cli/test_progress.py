"""Progress on stderr: readable lines with done/total, rate and ETA in logs, a live bar on a
terminal."""

from __future__ import annotations

import io

from custom_components.immich_autotag.cli.progress import ProgressPrinter, format_seconds
from custom_components.immich_autotag.engine.progress import Progress, RunPhase


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_per_phase_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(out, tty=False, interval=10, clock=clock)
    printer(Progress(RunPhase.LOADING))
    for done in range(1, 41):  # 40 requests over 20 s: one line after 10 s, one after 20 s
        clock.now += 0.5
        printer(Progress(RunPhase.LOADING, done, 80))
    printer(Progress(RunPhase.PLANNING))
    clock.now += 2
    printer(Progress(RunPhase.PLANNING, 1, 1))
    printer(Progress(RunPhase.APPLYING, 0, 300))
    clock.now += 30
    printer(Progress(RunPhase.APPLYING, 150, 300))
    printer.close()
    assert out.getvalue().splitlines() == [
        "loading: started",
        "loading: 20/80 requests (25%), 2.0/s, ETA 30 s",
        "loading: 40/80 requests (50%), 2.0/s, ETA 20 s",
        "loading: done, 40 requests in 20 s",
        "planning: started",
        "planning: done in 2 s",
        "applying: started",
        "applying: 150/300 requests (50%), 5.0/s, ETA 30 s",
        "applying: done, 150 requests in 30 s",
    ]


def test_no_line_between_intervals() -> None:
    out, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(out, tty=False, interval=10, clock=clock)
    for done in range(100):
        clock.now += 0.01
        printer(Progress(RunPhase.APPLYING, done, 1000))
    assert out.getvalue() == "applying: started\n"


def test_terminal_bar_redraws_one_line() -> None:
    out, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(out, tty=True, clock=clock)
    for done in range(0, 101, 10):
        clock.now += 1
        printer(Progress(RunPhase.APPLYING, done, 100))
    printer.close()
    text = out.getvalue()
    assert text.count("\n") == 1  # only the closing newline: the bar redraws in place
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("[" + "#" * 30 + "] 100.0% applying: 100/100 requests (100%)")


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.4, 59, 61, 3599, 3600, 7380)] == [
        "0 s",
        "59 s",
        "1 min 1 s",
        "59 min 59 s",
        "1 h 0 min",
        "2 h 3 min",
    ]


def test_terminal_bar_ends_each_phase_with_its_last_numbers() -> None:
    out, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(out, tty=True, clock=clock)
    printer(Progress(RunPhase.LOADING, 1, 10))
    clock.now += 0.01  # too soon to redraw
    printer(Progress(RunPhase.LOADING, 9, 10))
    printer(Progress(RunPhase.PLANNING))
    printer.close()
    loading, planning = out.getvalue().rstrip("\n").split("\n")
    assert loading.rstrip().endswith("loading: 9/10 requests (90%), 900.0/s, ETA 0 s")
    assert planning.split("\r")[-1].rstrip().endswith("% planning")


class ClosedPipe(io.StringIO):
    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stderr_stops_the_progress_not_the_run() -> None:
    clock = Clock()
    printer = ProgressPrinter(ClosedPipe(), tty=False, interval=1, clock=clock)
    for done in range(5):
        clock.now += 2
        printer(Progress(RunPhase.APPLYING, done, 5))  # raises nothing
    printer.close()
