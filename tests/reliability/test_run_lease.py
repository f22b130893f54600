"""The run lease's bounds (issue 21.3, `engine/lease.py`): a killed run's lease expires, a
dry run neither takes nor waits for one, an undo is a writing run and takes it.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from custom_components.immich_autotag.engine import lease
from custom_components.immich_autotag.engine.journal import Journal, JournalFile
from custom_components.immich_autotag.engine.journal_read import LAST, read_journal
from custom_components.immich_autotag.engine.lease import LEASE_PREFIX, TTL, UNTIL
from custom_components.immich_autotag.engine.report import RunReport, RunStatus
from tests.e2e.command import start
from tests.e2e.harness import run_once, undo_once
from tests.sim.faults import Faults
from tests.sim.library import SimLibrary
from tests.sim.records import SimUser
from tests.sim.server import Simulator, assert_no_violations

from .common import RULES_TEXT, build_library, canonical, diff, reference_state, rules, run_sim
from .test_concurrent_runs import doubled_albums, leases

N_ASSETS, SEED = 150, 8


def add_live_lease(lib: SimLibrary, me: SimUser, run_id: str = "0ther") -> None:
    """Another run's lease, created before anything else this test starts."""
    lib.add_tag(me, f"{LEASE_PREFIX}{run_id}/{UNTIL}{int(time.time() + 240)}")
    lib.tick()  # tags created from now on are younger (the simulator's clock is logical)


def warning(report: RunReport, kind: str) -> str:
    """The message of the report's warning of `kind` (empty: none)."""
    return next((w["message"] or "" for w in report.warnings if w["kind"] == kind), "")


async def test_a_killed_run_leaves_a_lease_that_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL mid-apply: the next run is skipped until the lease's expiry, then it works."""
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES_TEXT)
    sim = Simulator(built.lib, faults=Faults(latency_ms=30.0), metadata_delay_s=0.05)
    async with sim.serve() as url:
        proc = await start(
            *("--url", url, "--api-key", built.key, "--no-cache"),
            *("--rules", str(rules_file)),
            home=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(60):  # its lease taken, its writes begun
            while not sim.stats.requests["PUT /tags/assets"]:  # noqa: ASYNC110 - polling the simulator
                await asyncio.sleep(0.01)
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        left = leases(built.lib)
        assert len(left) == 2, left  # its root and its `until-` child
        until = float(left[1].rsplit(UNTIL, 1)[1])
        assert killed_at + TTL - 30 <= until <= killed_at + TTL  # taken moments before

        skipped, writes = await run_sim(sim, url, built.key, the_rules)
        assert skipped.status is RunStatus.SKIPPED
        assert skipped.changes == {}
        assert "expires at" in warning(skipped, "another_run_active")
        assert leases(built.lib) == left
        assert writes == 0  # the live lease was in its snapshot: skipped before planning

        # TTL seconds later by this machine's clock: the dead run's lease is cleared.
        monkeypatch.setattr(lease, "wall_clock", lambda: time.time() + TTL + 1)
        report, _ = await run_sim(sim, url, built.key, the_rules)
        assert report.status is RunStatus.SUCCESS, report.errors[:3]
        assert leases(built.lib) == []
        assert doubled_albums(built.lib) == []
        got = canonical(built.lib)
        assert got == want, diff(got, want)
    assert_no_violations(sim)


async def test_a_dry_run_takes_no_lease_and_is_not_skipped() -> None:
    """It writes nothing, so it neither takes a lease nor waits; it says a run is writing."""
    built = build_library(60, SEED)
    me = built.lib.user_by_email("me@example.com")
    add_live_lease(built.lib, me)
    before = canonical(built.lib)
    tags_before = leases(built.lib)
    sim = Simulator(built.lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        report, writes = await run_sim(sim, url, built.key, rules(), dry_run=True)
        assert report.status is RunStatus.SUCCESS
        assert report.changes_total > 0  # a preview of what a run would do
        assert writes == 0
        assert sim.stats.requests["PUT /tags"] == 0
        kinds = [w["kind"] for w in report.warnings]
        assert "another_run_writing" in kinds
        assert "another_run_active" not in kinds
        assert canonical(built.lib) == before
        assert leases(built.lib) == tags_before
        # Without another run's lease: no such warning.
        built.lib.tags.clear()
        report, writes = await run_sim(sim, url, built.key, rules(), dry_run=True)
        assert writes == 0
        assert "another_run_writing" not in [w["kind"] for w in report.warnings]
    assert_no_violations(sim)


async def test_an_undo_is_a_writing_run_and_takes_the_lease(tmp_path: Path) -> None:
    built = build_library(60, SEED)
    me = built.lib.user_by_email("me@example.com")
    sim = Simulator(built.lib, metadata_delay_s=0.05)
    path = tmp_path / "journal.jsonl"
    async with sim.serve() as url:
        journal_file = JournalFile(path)
        try:
            report, _, _ = await run_once(
                sim, url, built.key, rules(), journal=Journal(journal_file)
            )
        finally:
            journal_file.close()
        assert report.status is RunStatus.SUCCESS
        await sim.metadata_settled()
        after_run = canonical(built.lib)
        add_live_lease(built.lib, me)
        held = leases(built.lib)
        skipped, _, _ = await undo_once(sim, url, built.key, read_journal(path), LAST)
        assert skipped.status is RunStatus.SKIPPED
        assert "another_run_active" in [w["kind"] for w in skipped.warnings]
        assert leases(built.lib) == held
        without_leases = {k: v for k, v in canonical(built.lib).items() if k != "tags"}
        assert without_leases == {k: v for k, v in after_run.items() if k != "tags"}

        built.lib.tags.pop(next(t.id for t in built.lib.tags.values() if t.value == held[1]))
        built.lib.tags.pop(next(t.id for t in built.lib.tags.values() if t.value == held[0]))
        done, _, _ = await undo_once(sim, url, built.key, read_journal(path), LAST)
        assert done.status is RunStatus.SUCCESS, done.errors[:3]
        assert done.changes_total > 0
        assert leases(built.lib) == []
        assert canonical(built.lib) != after_run
    assert_no_violations(sim)
