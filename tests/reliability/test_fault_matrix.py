"""Fault combinations on every supported API family: the end state equals a fault-free run.

Each combination runs the engine against the simulator with several faults at once — a
rate-limiting proxy (40 requests/s, 429 + Retry-After), random 500s and connection resets, a
stall on one route, a server restart (an outage window of 502s, 503s, 500s and dropped
connections), answers lost after the change was applied — on v2, v3.0, v3.1 and v3.2.

Time is scaled: the client uses the product's retry policy with every wait and budget 100x
shorter (`fast_retry`), so the 0.6 s outage here stands for a 60 s restart. The run must
succeed, report exactly the changes and statuses of a fault-free run (nothing double-counted,
nothing missing), leave the same library, and a second run must write nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from custom_components.immich_autotag.engine.report import RunReport, RunStatus
from custom_components.immich_autotag.immich.retry import RUN_POLICY, RetryPolicy
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import (
    Built,
    assert_settled,
    assert_state,
    build_library,
    canonical,
    fast_retry,
    rules,
    run_sim,
)
from .held import HELD_TIMEOUT

VERSIONS = ("2.7.3", "3.0.3", "3.1.0", "3.2.2")
N_ASSETS = 120
SEED = 21
# Writes that are safe to resend (POST /albums is not: its lost answers are tested apart).
IDEMPOTENT_WRITES = [
    "PUT /tags/assets",
    "DELETE /tags/{id}/assets",
    "PUT /albums/{id}/assets",
    "PUT /albums/assets",
    "PUT /assets",
    "PUT /tags",
]
# A rate-limiting proxy; every 11th request is refused too, so 429s come however slowly a
# loaded machine sends (the bucket alone refused nothing there).
PROXY = {"rate_limit_per_s": 40.0, "rate_burst": 10, "retry_after_s": 0.05, "throttle_every": 11}
OUTAGE_S = 0.6  # a 60 s restart at the tests' time scale
# Transient faults: no request meets more than 3 errors in a row (it is tried 5 times), so
# whether a run ends like a fault-free one does not hang on the order requests arrive in.
STREAK = 3


@dataclass(frozen=True)
class Combo:
    """Fault knobs (`outage_at` = share of the fault-free run's requests before the outage)."""

    knobs: dict[str, Any]
    injected: tuple[str, ...]
    outage_at: float | None = None
    retry: RetryPolicy = field(default_factory=fast_retry)


COMBOS = {
    "proxy_500s_resets_stall": Combo(
        {
            **PROXY,
            "error_rate": 0.05,
            "error_every": 13,  # so a small library sees some for sure
            "reset_rate": 0.02,
            "reset_every": 17,
            "stall_route": "PUT /tags/assets",
            "stall_count": 2,
            "stall_s": 30.0,
            "seed": 3,
            "streak_max": STREAK,
        },
        ("429", "500", "reset", "stall"),
        retry=fast_retry(answer_timeout=HELD_TIMEOUT),
    ),
    "restart_lost_answers": Combo(
        {
            "outage_s": OUTAGE_S,
            "outage_mode": "mixed",
            "lose_rate": 0.3,
            "lose_routes": IDEMPOTENT_WRITES,
            "seed": 4,
            "streak_max": STREAK,
        },
        ("outage", "lost"),
        outage_at=0.5,
    ),
    "restart_behind_proxy": Combo(
        {
            **PROXY,
            "error_rate": 0.05,
            "error_every": 13,
            "outage_s": OUTAGE_S,
            "outage_mode": "502",
            "seed": 5,
            "streak_max": STREAK,
        },
        ("outage", "429", "500"),
        outage_at=0.3,
    ),
    "stalled_restart": Combo(
        {
            "outage_s": OUTAGE_S,
            "outage_mode": "stall",
            "reset_rate": 0.02,
            "reset_every": 17,
            "seed": 6,
            "streak_max": STREAK,
        },
        ("outage", "reset"),
        outage_at=0.6,
        retry=fast_retry(answer_timeout=0.4),
    ),
}


@dataclass(frozen=True)
class Reference:
    """A fault-free run on a copy of the library."""

    state: dict[str, Any]
    report: RunReport
    requests: int


async def _reference(version: str) -> Reference:
    return await _reference_of(lambda: build_library(N_ASSETS, SEED), version)


async def _reference_of(builder: Callable[[], Built], version: str) -> Reference:
    built = builder()
    sim = Simulator(built.lib, version=version)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, rules())
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        requests = sim.stats.total
        _, writes = await run_sim(sim, url, built.key, rules())
        assert writes == 0
    return Reference(canonical(built.lib), report, requests)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", list(COMBOS))
async def test_fault_combination_ends_like_a_fault_free_run(name: str, version: str) -> None:
    combo = COMBOS[name]
    want = await _reference(version)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib, version=version)
    knobs = dict(combo.knobs)
    if combo.outage_at is not None:
        knobs["outage_after"] = int(want.requests * combo.outage_at)
    async with sim.serve() as url:
        sim.faults.update(knobs)
        report, _ = await run_sim(sim, url, built.key, rules(), retry=combo.retry)
        injected = dict(sim.stats.faults_injected)
        sim.faults = Faults()
        sim.injector.release()
        await asyncio.sleep(0.05)  # dropped and released requests finish on the server

        assert report.status is RunStatus.SUCCESS, (report.error_message, report.errors[:5])
        assert report.failed_changes == {}
        assert report.errors == []
        for kind in combo.injected:
            assert injected.get(kind, 0) > 0, (kind, injected)
        # The report is honest: the changes of a fault-free run, each counted once, and
        # the recovery it took (retries, or requests resent after a lost answer).
        assert report.changes == want.report.changes
        assert report.status_counts == want.report.status_counts
        assert report.api.requests + report.api.retries > want.report.api.requests
        await assert_settled(sim, url, built.key, rules(), want.state)
    assert_no_violations(sim)


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
async def test_the_issue_scenario_with_the_real_policy(version: str) -> None:
    """40 requests/s (429 + Retry-After: 1), 5 % 500s, 2 % resets, real waits: success."""
    built = build_library(400, 31)
    want = await _reference_of(lambda: build_library(400, 31), version)
    sim = Simulator(built.lib, version=version)
    async with sim.serve() as url:
        sim.faults.update(
            {**PROXY, "retry_after_s": 1.0, "error_rate": 0.05, "reset_rate": 0.02, "seed": 7}
        )
        report, _ = await run_sim(sim, url, built.key, rules(), retry=RUN_POLICY)
        assert report.status is RunStatus.SUCCESS, (report.error_message, report.errors[:5])
        assert sim.stats.faults_injected["429"] > 0
        assert sim.stats.faults_injected["500"] > 0
        assert report.changes == want.report.changes
        assert_state(built.lib, want.state)
    assert_no_violations(sim)


@pytest.mark.slow
async def test_a_sixty_second_restart_is_ridden_out_with_the_real_policy() -> None:
    """A real minute of 502s, 503s, 500s and dropped connections in the middle of a run."""
    want = await _reference_of(lambda: build_library(150, 11), "3.0.3")
    built = build_library(150, 11)
    sim = Simulator(built.lib)
    async with sim.serve() as url:
        sim.faults.update(
            {"outage_after": want.requests // 3, "outage_s": 60.0, "outage_mode": "mixed"}
        )
        report, _ = await run_sim(sim, url, built.key, rules(), retry=RUN_POLICY)
        assert sim.stats.faults_injected["outage"] > 0
        assert report.status is RunStatus.SUCCESS, (report.error_message, report.errors[:5])
        assert report.changes == want.report.changes
        assert_state(built.lib, want.state)
