"""A dry run plans exactly what the real run journals, on a server with a fault mix.

A rate-limiting proxy (429 + Retry-After), random 500s, connection resets and answers lost
after the write was applied, on every API family: the resends find some writes done already
("duplicate", "not_found"), and the journal must still list every change the plan made. One
answer of `PUT /albums/{id}/assets` is lost for sure (the others at random). The faults are
transient: no request meets more than three in a row (the client tries five times), so the
outcome does not hang on the order the client sends its requests in.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import build_library, fast_retry, rules, run_sim
from .held import HELD_TIMEOUT, lose_answers, settled
from .test_dry_run_matches import journaled, planned
from .test_fault_matrix import IDEMPOTENT_WRITES, PROXY

KNOBS: dict[str, Any] = {
    **PROXY,
    "error_rate": 0.05,
    "error_every": 13,
    "reset_rate": 0.02,
    "reset_every": 17,
    "lose_rate": 0.2,
    "lose_routes": IDEMPOTENT_WRITES,
    "seed": 9,
    "streak_max": 3,
}


@pytest.mark.parametrize("version", ["2.7.3", "3.0.3", "3.1.0", "3.2.2"])
async def test_the_dry_run_plan_equals_the_journal_despite_faults(version: str) -> None:
    built = build_library(120, 21)
    twin = copy.deepcopy(built.lib)
    dry_sim = Simulator(twin, version=version, faults=Faults(**KNOBS))
    async with dry_sim.serve() as url:
        dry, writes = await run_sim(dry_sim, url, built.key, rules(), dry_run=True)
    assert writes == 0
    journal = Journal()
    sim = Simulator(built.lib, version=version, faults=Faults(**KNOBS))
    late = lose_answers(sim, "PUT /albums/{id}/assets", count=1)  # one for sure
    async with sim.serve() as url:
        real, _ = await run_sim(
            sim,
            url,
            built.key,
            rules(),
            journal=journal,
            retry=fast_retry(answer_timeout=HELD_TIMEOUT),
        )
        await settled(sim)  # the late answer goes out (to nobody)
    assert late[0] == 1
    assert dry.status is RunStatus.SUCCESS, dry.error_message
    assert real.status is RunStatus.SUCCESS, real.errors[:5]
    assert real.changes == dry.changes
    assert journaled(journal) == planned(dry)
    assert_no_violations(sim)
