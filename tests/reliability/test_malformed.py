"""Malformed responses on the read routes: a clear invalid_response error, zero writes."""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import build_library, canonical, rules, run_sim

ROUTES = (
    "POST /search/metadata",
    "GET /tags",
    "GET /albums",
    "GET /users/me",
    "GET /server/version",
)


@pytest.mark.parametrize("mode", ["json", "shape"])
@pytest.mark.parametrize("route", ROUTES)
async def test_malformed_response_fails_cleanly_without_writing(route: str, mode: str) -> None:
    built = build_library(60, 2)
    before = canonical(built.lib)
    sim = Simulator(built.lib, faults=Faults(malformed_route=route, malformed_mode=mode))
    async with sim.serve() as url:
        report, writes = await run_sim(sim, url, built.key, rules())
    assert sim.stats.faults_injected["malformed"] > 0
    assert report.status is RunStatus.FAILED
    assert report.error_kind is ErrorKind.INVALID_RESPONSE, report.error_message
    assert report.error_message
    assert writes == 0
    assert sim.stats.writes == 0
    assert report.api.writes == 0
    assert report.changes == {}
    assert canonical(built.lib) == before
    assert_no_violations(sim)


@pytest.mark.parametrize("version", ["2.7.3", "3.2.2"])
@pytest.mark.parametrize("route", ["POST /search/metadata", "GET /albums"])
async def test_malformed_response_on_other_server_versions(route: str, version: str) -> None:
    built = build_library(60, 2)
    before = canonical(built.lib)
    sim = Simulator(built.lib, version=version, faults=Faults(malformed_route=route))
    async with sim.serve() as url:
        report, writes = await run_sim(sim, url, built.key, rules())
    assert report.error_kind is ErrorKind.INVALID_RESPONSE, report.error_message
    assert writes == 0
    assert canonical(built.lib) == before
