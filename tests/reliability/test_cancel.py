"""Cancel at any point (CancelToken from the progress callback, or cancelling the task).

The report says cancelled (or the task raised CancelledError), whatever was applied is a valid
state (no asset lost its classification, no non-temporary album deleted), and the next run
converges to the state of an uninterrupted run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.progress import CancelToken, Progress
from custom_components.immich_autotag.engine.report import RunReport, RunStatus
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

N_ASSETS = 80
SEED = 21
_REFERENCE: dict[str, Any] = {}


async def _reference() -> tuple[dict[str, Any], int]:
    """The uninterrupted final state, and how many progress ticks a run emits."""
    if not _REFERENCE:
        _REFERENCE["state"] = await reference_state(lambda: build_library(N_ASSETS, SEED), rules())
        ticks: list[Progress] = []
        built = build_library(N_ASSETS, SEED)
        sim = Simulator(built.lib)
        async with sim.serve() as url:
            await run_sim(sim, url, built.key, rules(), progress=ticks.append)
        _REFERENCE["ticks"] = len(ticks)
    return _REFERENCE["state"], _REFERENCE["ticks"]


@settings(
    max_examples=14,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cut=st.floats(0.0, 1.0), how=st.sampled_from(["token", "task"]))
async def test_cancel_anywhere_leaves_a_valid_state_and_the_next_run_converges(
    cut: float, how: str
) -> None:
    the_rules = rules()
    want, total_ticks = await _reference()
    assert total_ticks > 10
    cut_at = int(cut * total_ticks)
    built = build_library(N_ASSETS, SEED)
    before = canonical(built.lib)
    sim = Simulator(built.lib)
    cache = AlbumCache()
    token = CancelToken()
    seen = [0]
    task: asyncio.Task[tuple[RunReport, int]] | None = None

    def progress(_tick: Progress) -> None:
        seen[0] += 1
        if seen[0] == cut_at + 1:
            if how == "token":
                token.cancel()
            elif task is not None:
                task.cancel()

    async with sim.serve() as url:
        task = asyncio.create_task(
            run_sim(sim, url, built.key, the_rules, cancel=token, progress=progress, cache=cache)
        )
        try:
            report, _ = await task
        except asyncio.CancelledError:
            assert how == "task"
        else:
            if how == "token":
                assert report.status in {RunStatus.CANCELLED, RunStatus.SUCCESS}
                if report.status is RunStatus.CANCELLED:
                    assert report.error_kind is None
                    assert report.finished_at is not None
        await asyncio.sleep(0.02)  # requests already sent finish at the server
        assert_valid_intermediate(before, canonical(built.lib), the_rules)

        final, _ = await run_sim(sim, url, built.key, the_rules, cache=cache)
        assert final.status is RunStatus.SUCCESS, final.errors[:5]
        await assert_settled(sim, url, built.key, the_rules, want, cache=cache)
    assert_no_violations(sim)


async def test_cancel_before_apply_writes_nothing() -> None:
    """Cancelled while planning: the report says cancelled and nothing was written."""
    built = build_library(N_ASSETS, SEED)
    before = canonical(built.lib)
    sim = Simulator(built.lib)
    token = CancelToken()

    def progress(tick: Progress) -> None:
        if tick.phase == "planning":
            token.cancel()

    async with sim.serve() as url:
        report, writes = await run_sim(
            sim, url, built.key, rules(), cancel=token, progress=progress
        )
    assert report.status is RunStatus.CANCELLED
    assert writes == 0
    assert report.changes == {}
    assert canonical(built.lib) == before
