"""Heavier runs (marked slow): every supported server version, mixed faults, bigger libraries."""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import (
    assert_settled,
    assert_state,
    build_library,
    reference_state,
    rules,
    run_sim,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("version", ["2.7.3", "3.0.3", "3.1.0", "3.2.2"])
async def test_mixed_transient_faults_converge_on_every_version(version: str) -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(400, 31), the_rules, version=version)
    built = build_library(400, 31)
    faults = Faults(error_rate=0.05, reset_rate=0.03, rate_limit_per_s=300.0, rate_burst=10, seed=7)
    sim = Simulator(built.lib, version=version, faults=faults)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, the_rules)
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        assert report.api.retries > 0
        sim.faults = Faults()
        await assert_settled(sim, url, built.key, the_rules, want)
    assert_no_violations(sim)


@pytest.mark.parametrize("version", ["2.7.3", "3.2.2"])
@pytest.mark.parametrize("route", ["PUT /albums/{id}/assets", "DELETE /tags/{id}/assets"])
async def test_failing_route_then_recovery_on_other_versions(version: str, route: str) -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(300, 17), the_rules, version=version)
    built = build_library(300, 17)
    sim = Simulator(built.lib, version=version, faults=Faults(fail_route=route))
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, the_rules)
        assert report.status is RunStatus.PARTIAL
        assert report.failed_changes
        sim.faults = Faults()
        final, _ = await run_sim(sim, url, built.key, the_rules)
        assert final.status is RunStatus.SUCCESS
        assert_state(built.lib, want)
    assert_no_violations(sim)
