"""Key revoked mid-run: the run stops with error_kind auth; with a valid key the next run
converges to the fault-free final state.

A revoked key cannot delete its run's lease either (`engine/lease.py`): a run with the new key
is skipped, writing nothing, until that lease expires (5 minutes after its last renewal).
"""

from __future__ import annotations

import time

import pytest

from custom_components.immich_autotag.engine import lease
from custom_components.immich_autotag.engine.lease import LEASE_PREFIX, TTL
from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import (
    assert_settled,
    assert_valid_intermediate,
    build_library,
    canonical,
    reference_state,
    rules,
    run_sim,
)
from .test_concurrent_runs import leases

N_ASSETS = 100
SEED = 13


async def _authenticated_requests_of_a_run() -> int:
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, rules())
    assert report.status is RunStatus.SUCCESS
    assert report.api.by_endpoint["DELETE /tags/{id}"] == 1  # the lease, deleted last
    return sim.stats.authenticated_requests - 1  # the run's work, up to its final listing


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.3, 0.6, 0.85, 0.99])
async def test_revoked_key_stops_the_run_and_a_new_key_finishes_it(
    fraction: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    total = await _authenticated_requests_of_a_run()
    revoke_after = int(total * fraction)
    built = build_library(N_ASSETS, SEED)
    before = canonical(built.lib)
    sim = Simulator(built.lib, faults=Faults(revoke_after=revoke_after))
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, the_rules)
        assert report.status is RunStatus.FAILED
        assert report.error_kind is ErrorKind.AUTH
        assert report.error_message
        assert built.key not in (report.error_message or "")
        assert sim.stats.statuses[401] >= 1
        assert_valid_intermediate(before, canonical(built.lib), the_rules)

        again, _ = await run_sim(sim, url, built.key, the_rules)  # the old key stays invalid
        assert again.error_kind is ErrorKind.AUTH

        sim.faults = Faults()
        me = built.lib.user_by_email("me@example.com")
        new_key = built.lib.add_api_key(me, permissions={"all"}, name="reauth")
        if leases(built.lib):  # revoked once the lease was taken: it could not be deleted
            assert "run_lease_left" in [w["kind"] for w in report.warnings]
            skipped, writes = await run_sim(sim, url, new_key, the_rules)
            assert skipped.status is RunStatus.SKIPPED
            assert writes == 0
            monkeypatch.setattr(lease, "wall_clock", lambda: time.time() + TTL + 1)
        final, _ = await run_sim(sim, url, new_key, the_rules)
        assert final.status is RunStatus.SUCCESS, final.errors[:5]
        # An expired lease is ignored; a run with nothing to write leaves it (it writes nothing).
        for tag in [t for t in built.lib.tags.values() if t.value.startswith(LEASE_PREFIX)]:
            built.lib.tags.pop(tag.id, None)
        await assert_settled(sim, url, new_key, the_rules, want)
    assert_no_violations(sim)
