"""The journal never loses or under-records: every change the simulator shows is journaled,
with the old values an undo needs, whether the run finishes, is cancelled or is killed."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from custom_components.immich_autotag.engine.journal import (
    JOURNAL_VERSION,
    Journal,
    JournalFile,
    JournalWriteError,
)
from custom_components.immich_autotag.engine.progress import CancelToken
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.journal_audit import assert_journaled, changes, picture, read_lines
from tests.sim.faults import READ_POSTS
from tests.sim.generator import generate_library, generator_key
from tests.sim.server import Handler, Simulator, assert_no_violations

from .command import start
from .harness import run_once
from .test_all_phases import RULES, build
from .test_engine_core import RULES as CORE_RULES


async def test_a_run_journals_every_change_with_its_old_values(tmp_path: Path) -> None:
    world = build()
    me = world.lib.user_by_email("me@example.com")
    alice = world.lib.user_by_email("alice@example.com")
    world.lib.add_album(me, "Family 2022", [], users=[(alice, "viewer")])
    before = picture(world.lib)
    path = tmp_path / "journal.jsonl"
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        journal_file = JournalFile(path)
        report, _, _ = await run_once(sim, url, world.key, RULES, journal=Journal(journal_file))
        journal_file.close()
    assert report.status is RunStatus.SUCCESS, report.errors
    lines = read_lines(path)
    kinds = {line.get("kind") for line in lines}
    assert {
        "date_set",
        "album_create",
        "album_delete",
        "album_user_add",
        "album_user_update",
        "album_user_remove",
        "tag_add",
        "tag_remove",
    } <= kinds
    assert_journaled(before, picture(world.lib), lines)
    head, tail = lines[0], lines[-1]
    assert head["journal"] == JOURNAL_VERSION
    assert head["run"] == report.id
    assert head["server"] == url
    assert head["user_id"] == me.id
    assert tail == {**tail, "run": report.id, "end": "success", "changes": len(lines) - 2}
    assert all(line["run"] == report.id for line in lines)
    removed = next(line for line in lines if line.get("kind") == "album_user_remove")
    assert (removed["ids"], removed["old_role"], removed["role"]) == (
        [world.users["bob"]],
        "viewer",
        None,
    )
    changed = next(line for line in lines if line.get("kind") == "album_user_update")
    assert (changed["old_role"], changed["role"]) == ("viewer", "editor")
    assert_no_violations(sim)


async def test_a_run_without_changes_writes_nothing(tmp_path: Path) -> None:
    world = build()
    path = tmp_path / "journal.jsonl"
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        await run_once(sim, url, world.key, RULES)
        journal_file = JournalFile(path)
        _, _, writes = await run_once(sim, url, world.key, RULES, journal=Journal(journal_file))
        journal_file.close()
    assert writes == 0
    assert path.read_text() == ""


@pytest.mark.parametrize("after_writes", [3, 10, 25])
async def test_cancelling_the_task_mid_apply_loses_nothing(
    tmp_path: Path, after_writes: int
) -> None:
    """Home Assistant unloading cancels the run's task with requests in flight."""
    lib = generate_library(400, seed=3)
    before = picture(lib)
    sim = Simulator(lib)
    sim.faults.latency_ms = 30
    path = tmp_path / "journal.jsonl"
    async with sim.serve() as url:
        journal_file = JournalFile(path)
        task = asyncio.create_task(
            run_once(
                sim, url, generator_key(lib), load_rules(CORE_RULES), journal=Journal(journal_file)
            )
        )
        await _until(lambda: sim.stats.writes >= after_writes)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        journal_file.close()
        await _until(lambda: sim.stats.in_flight == 0)  # abandoned requests finish on the server
    after = picture(lib)
    assert changes(before, after)
    lines = read_lines(path)
    assert_journaled(before, after, lines)
    assert lines[-1]["end"] == "interrupted"


async def test_a_cancel_token_mid_apply_loses_nothing(tmp_path: Path) -> None:
    lib = generate_library(400, seed=3)
    before = picture(lib)
    sim = Simulator(lib)
    sim.faults.latency_ms = 30
    path = tmp_path / "journal.jsonl"
    cancel = CancelToken()
    async with sim.serve() as url:
        journal_file = JournalFile(path)
        task = asyncio.create_task(
            run_once(
                sim,
                url,
                generator_key(lib),
                load_rules(CORE_RULES),
                journal=Journal(journal_file),
                cancel=cancel,
            )
        )
        await _until(lambda: sim.stats.writes >= 6)
        cancel.cancel()
        report, _, _ = await task
        journal_file.close()
    assert report.status is RunStatus.CANCELLED
    lines = read_lines(path)
    assert_journaled(before, picture(lib), lines)
    assert not any(line.get("uncertain") for line in lines)  # requests in flight finished
    assert lines[-1]["end"] == "cancelled"


async def _until(condition: Callable[[], bool]) -> None:
    """Poll the in-process simulator's counters (bounded: 30 s)."""
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


# --- the headless command -----------------------------------------------------------------


class WriteGate:
    """Holds every write after the first `after` until `open()`; counts the writes held."""

    def __init__(self, sim: Simulator, after: int) -> None:
        self.held = 0
        self._open = asyncio.Event()

        @web.middleware
        async def hold(request: web.Request, handler: Handler) -> web.StreamResponse:
            write = request.method != "GET" and request.get("route") not in READ_POSTS
            if write and sim.stats.writes > after and not self._open.is_set():
                self.held += 1
                await self._open.wait()
            return await handler(request)

        sim.app.middlewares.append(hold)

    def open(self) -> None:
        """Let the held writes (and all later ones) through."""
        self._open.set()


async def _said(proc: asyncio.subprocess.Process, text: str) -> None:
    """Read the command's stderr until a line holds `text` (bounded: 30 s)."""
    assert proc.stderr is not None
    async with asyncio.timeout(30):
        while text not in (await proc.stderr.readline()).decode():
            pass


@pytest.mark.parametrize(
    ("signals", "code"),
    [
        ((signal.SIGTERM,), 143),  # systemd stop, docker stop: finish the requests in flight
        ((signal.SIGINT,), 130),  # Ctrl-C
        ((signal.SIGINT, signal.SIGINT), 130),  # Ctrl-C twice: stop now
    ],
)
async def test_signals_during_apply_leave_every_change_journaled(
    tmp_path: Path, signals: tuple[signal.Signals, ...], code: int
) -> None:
    """The signals arrive while writes are held at the server (in flight for the command):
    one signal lets them finish and stops at a safe point; a second, sent once the first was
    acknowledged, abandons them (they are applied later, to nobody)."""
    lib = generate_library(400, seed=3)
    before = picture(lib)
    sim = Simulator(lib)
    gate = WriteGate(sim, after=4)
    async with sim.serve() as url:
        proc = await start(
            "--url", url, "--api-key", generator_key(lib), "--max-concurrency", "2", home=tmp_path
        )
        await _until(lambda: gate.held >= 1)
        proc.send_signal(signals[0])
        await _said(proc, "stopping after the requests in flight")
        for sig in signals[1:]:
            proc.send_signal(sig)
            await asyncio.wait_for(proc.wait(), 60)  # stopped with the writes still held
        gate.open()
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        await _until(lambda: sim.stats.in_flight == 0)  # abandoned writes end on the server
    assert proc.returncode == code, err.decode()
    after = picture(lib)
    assert changes(before, after)
    journal = tmp_path / ".local" / "state" / "immich-autotag" / "journal.jsonl"
    lines = read_lines(journal)
    assert_journaled(before, after, lines)
    if len(signals) == 1:
        assert "cancelled" in out.decode()  # the report of a run stopped at a safe point
        assert lines[-1]["end"] == "cancelled"
    else:
        assert any(line.get("uncertain") for line in lines)  # the held writes
        assert lines[-1]["end"] == "interrupted"


@pytest.mark.parametrize(
    "where",
    [
        "home",  # HOME is a file: neither ~/.cache nor ~/.local/state can be created
        "journal",  # --journal under a file
        "cache",  # --cache under a file
    ],
)
async def test_unwritable_paths_fail_before_anything_is_sent(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    home = blocker if where == "home" else tmp_path
    extra = {
        "home": (),
        "journal": ("--journal", str(blocker / "journal.jsonl")),
        "cache": ("--cache", str(blocker / "albums.json")),
    }[where]
    lib = generate_library(50, seed=3)
    sim = Simulator(lib)
    async with sim.serve() as url:
        proc = await start("--url", url, "--api-key", generator_key(lib), *extra, home=home)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, err.decode()
    assert sim.stats.total == 0  # not even a read: the check comes first
    message = err.decode()
    assert "cannot write" in message
    assert str(blocker) in message
    assert ("--no-journal" if where == "journal" else "--no-cache") in message
    assert out == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
async def test_a_full_disk_stops_the_run_and_hands_back_every_applied_change() -> None:
    """The journal's disk fills up mid-run: the run stops applying, and each change it applied
    is in the lines the file did not take (which the command prints and Home Assistant logs)."""
    world = build()
    before = picture(world.lib)
    sim = Simulator(world.lib)
    journal_file = JournalFile(Path("/dev/full"))
    async with sim.serve() as url:
        report, _, writes = await run_once(
            sim, url, world.key, RULES, journal=Journal(journal_file)
        )
    with pytest.raises(JournalWriteError) as closed:
        journal_file.close()
    assert report.status is RunStatus.FAILED, report.status
    assert writes > 0  # the run had started applying when the disk said no
    after = picture(world.lib)
    assert changes(before, after)
    assert_journaled(before, after, [json.loads(line) for line in closed.value.unwritten])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
async def test_the_command_prints_what_a_full_disk_did_not_take(tmp_path: Path) -> None:
    lib = generate_library(200, seed=5)
    before = picture(lib)
    sim = Simulator(lib)
    async with sim.serve() as url:
        proc = await start(
            *("--url", url, "--api-key", generator_key(lib), "--journal", "/dev/full"),
            home=tmp_path,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 120)
    message = err.decode()
    assert proc.returncode != 0, message
    assert "cannot write the journal /dev/full" in message
    printed = [json.loads(line) for line in message.splitlines() if line.startswith("{")]
    after = picture(lib)
    assert changes(before, after)
    assert_journaled(before, after, printed)
