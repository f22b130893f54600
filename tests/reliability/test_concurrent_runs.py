"""Two runs at once on one Immich account (issue 21.3): one works, the other is skipped.

Overlapping cron jobs, or the headless runner and Home Assistant on one server, used to create
hundreds of duplicate albums. A run that may write takes a lease the server shows (a tool-owned
tag, `engine/lease.py`); the run that finds another run's live lease writes nothing and ends
`skipped`. The final state is exactly one run's. Duplicates the tool itself once created are
merged; the user's own albums are never merged or deleted.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp import web

from custom_components.immich_autotag.engine.lease import LEASE_PREFIX
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules import CREATED_BY
from tests.e2e.command import headless
from tests.sim.faults import Faults
from tests.sim.library import SimLibrary
from tests.sim.server import Handler, Simulator, assert_no_violations

from .common import RULES_TEXT, build_library, canonical, diff, reference_state, rules, run_sim

N_ASSETS, SEED = 150, 8


class LeaseBarrier:
    """Holds the first lease request of each run until `runs` of them have arrived.

    No lease exists before then, so every run reaches its lease request and both leases
    exist when each run looks: the hardest case, whatever the processes' start-up times.
    """

    def __init__(self, runs: int = 2) -> None:
        self.runs = runs
        self.arrived = 0
        self.all_here = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        lease = request.get("route") == "PUT /tags" and LEASE_PREFIX in await request.text()
        if lease and not self.all_here.is_set():
            self.arrived += 1
            if self.arrived >= self.runs:
                self.all_here.set()
            async with asyncio.timeout(60):
                await self.all_here.wait()
        return await handler(request)


def leases(lib: SimLibrary) -> list[str]:
    return sorted(t.value for t in lib.tags.values() if t.value.startswith(LEASE_PREFIX))


def doubled_albums(lib: SimLibrary) -> list[str]:
    names = [(a.owner_id, a.name) for a in lib.albums.values()]
    return sorted({name for owner, name in names if names.count((owner, name)) > 1})


async def test_two_engine_runs_at_once_leave_one_runs_state() -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib, faults=Faults(latency_ms=20.0), metadata_delay_s=0.05)
    sim.app.middlewares.append(LeaseBarrier().middleware)
    async with sim.serve() as url:
        reports = await asyncio.gather(*(run_sim(sim, url, built.key, the_rules) for _ in range(2)))
        by_status = {r.status: r for r, _ in reports}
        assert set(by_status) == {RunStatus.SUCCESS, RunStatus.SKIPPED}, [
            (r.status, r.errors[:3]) for r, _ in reports
        ]
        skipped = by_status[RunStatus.SKIPPED]
        assert skipped.changes == {}
        assert "another_run_active" in [w["kind"] for w in skipped.warnings]
        assert doubled_albums(built.lib) == []
        got = canonical(built.lib)
        assert got == want, diff(got, want)
        assert leases(built.lib) == []  # both leases are gone
        again, writes = await run_sim(sim, url, built.key, the_rules)
        assert again.status is RunStatus.SUCCESS
        assert writes == 0, again.changes  # nothing to write: not even a lease
    assert_no_violations(sim)


async def test_two_headless_runs_at_once(tmp_path: Path) -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES_TEXT)
    sim = Simulator(built.lib, faults=Faults(latency_ms=20.0), metadata_delay_s=0.05)
    sim.app.middlewares.append(LeaseBarrier().middleware)
    async with sim.serve() as url:
        args = ("--url", url, "--api-key", built.key, "--rules", str(rules_file), "--no-cache")
        results = await asyncio.gather(
            headless(*args, home=tmp_path / "a"), headless(*args, home=tmp_path / "b")
        )
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 5], results
        skipped_out = next(out for code, out, _ in results if code == 5)
        assert ": skipped" in skipped_out
        assert "another run" in skipped_out
        assert doubled_albums(built.lib) == []
        got = canonical(built.lib)
        assert got == want, diff(got, want)
        assert leases(built.lib) == []
    assert_no_violations(sim)


async def test_a_live_lease_of_another_run_skips_and_an_expired_one_is_cleared() -> None:
    built = build_library(60, SEED)
    me = built.lib.user_by_email("me@example.com")
    soon, past = int(time.time()) + 240, int(time.time()) - 5
    built.lib.add_tag(me, f"{LEASE_PREFIX}0ther/until-{soon}")  # created before this run's
    built.lib.tick()  # the simulator's clock is logical: this run's lease is younger
    before = canonical(built.lib)
    sim = Simulator(built.lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        report, writes = await run_sim(sim, url, built.key, rules())
        assert report.status is RunStatus.SKIPPED
        assert report.changes == {}
        assert writes == 0  # seen in its snapshot: skipped before planning, not even a lease
        assert canonical(built.lib) == before
        # That run ended without releasing its lease; once it expires the next run clears it.
        built.lib.tags.clear()
        built.lib.add_tag(me, f"{LEASE_PREFIX}0ther/until-{past}")
        report, _ = await run_sim(sim, url, built.key, rules())
        assert report.status is RunStatus.SUCCESS, report.warnings
        assert leases(built.lib) == []


async def test_the_tools_own_duplicate_albums_are_merged_and_the_users_are_not() -> None:
    lib = SimLibrary()
    me = lib.add_user("me@example.com")
    alice = lib.add_user("alice@example.com")
    key = lib.add_api_key(me)
    party = [
        lib.add_asset(me, f"DSC{n}.jpg", f"/photos/2020-05-01 Party/DSC{n}.jpg") for n in range(4)
    ]
    trip = [lib.add_asset(me, f"TRIP{n}.jpg") for n in range(2)]
    kept = lib.add_album(me, "2020-05-01 Party", party[:1])  # the user's (oldest)
    tool_copy = lib.add_album(
        me, "2020-05-01 Party", party[1:3], users=[(alice, "viewer")], description=CREATED_BY
    )
    mine_a = lib.add_album(me, "2021-01-01 Trip", trip[:1])  # the user's own twins: untouched
    mine_b = lib.add_album(me, "2021-01-01 Trip", trip[1:])
    sim = Simulator(lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, key, rules(FOLDERS))
        assert report.status is RunStatus.SUCCESS, report.errors
        assert report.changes.get("album_delete") == 1
        assert tool_copy.id not in lib.albums
        assert lib.album_assets(kept.id) == {a.id for a in party}
        assert lib.albums[kept.id].users == {alice.id: "viewer"}  # nobody lost access
        assert lib.album_assets(mine_a.id) == {trip[0].id}
        assert lib.album_assets(mine_b.id) == {trip[1].id}
        created = [a for a in lib.albums.values() if a.id not in {kept.id, mine_a.id, mine_b.id}]
        assert all(a.description == CREATED_BY for a in created)  # what it makes, it marks
        again, writes = await run_sim(sim, url, key, rules(FOLDERS))
        assert writes == 0, again.changes
    assert_no_violations(sim)


FOLDERS = """
classification:
  rules:
    - {album_name_patterns: ['^\\d{4}-\\d{2}']}
create_album_from_date_if_missing: true
album_detection_from_folders: {enabled: true}
"""


async def test_an_album_created_after_the_snapshot_is_used_not_created_again() -> None:
    """Another app (or a run without a lease) creates a planned album meanwhile: it is used."""
    built = build_library(N_ASSETS, SEED)
    me = built.lib.user_by_email("me@example.com")
    sim = Simulator(built.lib, metadata_delay_s=0.05)
    made: list[str] = []

    @web.middleware
    async def create_meanwhile(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.get("route") == "PUT /tags" and not made:  # the lease, after the snapshot
            made.append(built.lib.add_album(me, "Party pending").id)
        return await handler(request)

    sim.app.middlewares.append(create_meanwhile)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, rules())
        assert made
        assert report.status is RunStatus.SUCCESS, report.errors
        assert "album_created_meanwhile" in [w["kind"] for w in report.warnings]
        assert [a.id for a in built.lib.album_by_name("Party pending")] == made
        assert built.lib.album_assets(made[0])  # it got the photos the run meant for it
        again, writes = await run_sim(sim, url, built.key, rules())
        assert writes == 0, again.changes
    assert_no_violations(sim)
