"""Transient faults: 500s, resets, timeouts, 429 storms, a stalling server, lost answers.

Each run completes with retries and leaves exactly the state of a fault-free run on a copy of
the same library; nothing is applied twice harmfully (no album created twice) and a second run
writes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import (
    assert_settled,
    build_library,
    canonical,
    fast_retry,
    reference_state,
    rules,
    run_sim,
)
from .held import HELD_TIMEOUT, lose_answers, settled, stall_each_album

N_ASSETS = 100
SEED = 5


@dataclass(frozen=True)
class Scenario:
    """Fault knobs, the client timeout, and which injected fault must have happened."""

    knobs: dict[str, Any]
    injected: str
    timeout: float = 30.0


# A stall hangs a request far past the client's timeout (until the test releases it after
# the run); the client gives up on it and the connection is gone before the server reads its
# body, so it is never applied. Only the first four requests to the route stall: fewer than
# a request's five attempts (`error_attempts`), so every request gets through however the
# stalls fall among them (a count, not a time window: no race with the machine's speed).
STALL = {"stall_s": 60.0, "stall_count": 4}
SCENARIOS = {
    "random_500s": Scenario({"error_rate": 0.1, "seed": 1}, "500"),
    "connection_resets": Scenario({"reset_rate": 0.1, "seed": 2}, "reset"),
    "429_storm": Scenario(
        {"rate_limit_per_s": 40.0, "rate_burst": 3, "retry_after_s": 0.05}, "429"
    ),
    "500s_resets_and_429s": Scenario(
        {
            "error_rate": 0.05,
            "reset_rate": 0.05,
            "rate_limit_per_s": 150.0,
            "rate_burst": 5,
            "retry_after_s": 0.02,
            "seed": 4,
        },
        "500",
    ),
    "stalling_search": Scenario(
        {"stall_route": "POST /search/metadata", **STALL},
        "stall",
        timeout=HELD_TIMEOUT,
    ),
    "stalling_tag_writes": Scenario(
        {"stall_route": "PUT /tags/assets", **STALL},
        "stall",
        timeout=HELD_TIMEOUT,
    ),
    "stalling_album_creation": Scenario(
        {"stall_route": "POST /albums", **STALL},
        "stall",
        timeout=HELD_TIMEOUT,
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_transient_faults_converge_to_the_fault_free_state(name: str) -> None:
    scenario = SCENARIOS[name]
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib)
    async with sim.serve() as url:
        sim.faults.update(scenario.knobs)
        journal = Journal()
        report, writes = await run_sim(
            sim,
            url,
            built.key,
            the_rules,
            journal=journal,
            retry=fast_retry(answer_timeout=scenario.timeout),
        )
        assert report.status is RunStatus.SUCCESS, (report.error_message, report.errors[:5])
        assert report.failed_changes == {}
        assert report.api.retries > 0
        assert sim.stats.faults_injected[scenario.injected] > 0
        assert writes >= report.api.writes  # retried writes reached the server again
        created = Counter(e["target"] for e in journal.entries if e["kind"] == "album_create")
        assert created
        assert all(n == 1 for n in created.values()), created

        sim.faults = Faults()
        sim.injector.release()  # stalled requests end (their clients are long gone)
        await settled(sim)
        await assert_settled(sim, url, built.key, the_rules, want)
    assert_no_violations(sim)


async def test_an_albums_creates_stall_again_after_it_was_looked_for() -> None:
    """Each album's first two creates stall: after the first, the client looks for the album,
    finds none (a stalled create is never applied) and sends it again; that stalls too, and
    the third is answered. Every album is created once."""
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib)
    stalled = stall_each_album(sim, sends=2)
    async with sim.serve() as url:
        journal = Journal()
        report, _ = await run_sim(
            sim,
            url,
            built.key,
            the_rules,
            journal=journal,
            retry=fast_retry(answer_timeout=HELD_TIMEOUT),
        )
        assert report.status is RunStatus.SUCCESS, (report.error_message, report.errors[:5])
        created = Counter(e["target"] for e in journal.entries if e["kind"] == "album_create")
        assert created
        assert all(n == 1 for n in created.values()), created
        assert stalled == dict.fromkeys(created, 2)
        assert sim.stats.requests["POST /albums"] == 3 * len(created)
        await settled(sim)
        await assert_settled(sim, url, built.key, the_rules, want)
    assert_no_violations(sim)


async def test_dry_run_survives_reads_that_time_out() -> None:
    """The first three searches hang past the client's timeout; they are retried.

    Latency jitters (0-30 ms) on top; the dry run plans exactly what a quiet one does.
    """
    the_rules = rules()
    quiet = build_library(N_ASSETS, SEED)
    sim = Simulator(quiet.lib)
    async with sim.serve() as url:
        want, _ = await run_sim(sim, url, quiet.key, the_rules, dry_run=True)
    built = build_library(N_ASSETS, SEED)
    before = canonical(built.lib)
    faults = Faults(
        jitter_ms=30.0,
        seed=3,
        stall_route="POST /search/metadata",
        stall_count=3,
        stall_s=60.0,  # released when the simulator stops
    )
    sim = Simulator(built.lib, faults=faults)
    async with sim.serve() as url:
        report, writes = await run_sim(
            sim,
            url,
            built.key,
            the_rules,
            dry_run=True,
            retry=fast_retry(answer_timeout=HELD_TIMEOUT),
        )
    assert report.status is RunStatus.SUCCESS, report.error_message
    assert sim.stats.faults_injected["stall"] == 3
    assert report.api.retries >= 3
    assert writes == 0
    assert report.changes == want.changes
    assert report.status_counts == want.status_counts
    assert canonical(built.lib) == before


# A request the client gave up on may still have been applied by the server ("lost answer").
IDEMPOTENT_WRITES = (
    "PUT /tags/assets",
    "DELETE /tags/{id}/assets",
    "PUT /albums/{id}/assets",
    "PUT /assets",
    "PUT /tags",
)


@pytest.mark.parametrize(
    "route",
    [
        *IDEMPOTENT_WRITES,
        "POST /albums",
        "DELETE /albums/{id}/assets",
        "DELETE /albums/{id}",
    ],
)
async def test_lost_answers_are_not_applied_twice(route: str) -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib)
    lost = lose_answers(sim, route, count=2)
    async with sim.serve() as url:
        report, _ = await run_sim(
            sim, url, built.key, the_rules, retry=fast_retry(answer_timeout=HELD_TIMEOUT)
        )
        assert lost[0] > 0, f"{route} was not used by the run"
        await settled(sim)  # the late answers are sent (to nobody)
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        await assert_settled(sim, url, built.key, the_rules, want)
    assert_no_violations(sim)


async def test_duplicate_temp_albums_from_lost_create_answers_are_repaired_next_run() -> None:
    """Lost create answers leave no duplicate temp album behind: the next run converges."""
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib)
    lose_answers(sim, "POST /albums", count=2)
    async with sim.serve() as url:
        await run_sim(sim, url, built.key, the_rules, retry=fast_retry(answer_timeout=HELD_TIMEOUT))
        await settled(sim)
        repair, _ = await run_sim(sim, url, built.key, the_rules)
        assert repair.status is RunStatus.SUCCESS
        await assert_settled(sim, url, built.key, the_rules, want)
