"""Lost answers on the writes that are not plainly idempotent (issue 21.5).

`POST /albums` creates a second album when sent again after its answer was lost; removing an
album member answers `400 Album not shared with user` once it is done. A run meets both and
still ends `success`, with exactly the state of a fault-free run.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from custom_components.immich_autotag.engine.journal import Journal, JournalFile
from custom_components.immich_autotag.engine.journal_read import read_journal
from custom_components.immich_autotag.engine.report import RunStatus
from tests.e2e.harness import undo_once
from tests.e2e.test_all_phases import RULES, assert_end_state
from tests.e2e.test_all_phases import build as build_world
from tests.sim.server import Handler, Simulator, assert_no_violations
from tests.sim.view import differences, view

from .common import (
    assert_settled,
    build_library,
    fast_retry,
    reference_state,
    rules,
    run_sim,
)
from .held import HELD_TIMEOUT, client_gone, lose_answers, settled

N_ASSETS, SEED = 100, 5


def drop_then_lose(sim: Simulator) -> list[str]:
    """The first `POST /albums` of one album name never reaches the server; its resend is
    applied but answered only after the client gave up. Returns [that name]."""
    target: list[str] = []
    seen: Counter[str] = Counter()

    @web.middleware
    async def fault(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.get("route") != "POST /albums":
            return await handler(request)
        name = (await request.json())["albumName"]
        if not target:
            target.append(name)
        if name != target[0]:
            return await handler(request)
        seen[name] += 1
        if seen[name] == 1:  # dropped unseen
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError
        response = await handler(request)
        if seen[name] == 2:  # applied, answer lost
            await client_gone(request)
        return response

    sim.app.middlewares.append(fault)
    return target


async def test_a_second_lost_create_answer_makes_no_duplicate() -> None:
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    sim = Simulator(built.lib, metadata_delay_s=0.05)
    target = drop_then_lose(sim)
    async with sim.serve() as url:
        report, _ = await run_sim(
            sim, url, built.key, the_rules, retry=fast_retry(answer_timeout=HELD_TIMEOUT)
        )
        await settled(sim)  # the late answer goes out (to nobody)
        assert target, "the run created no album"
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        assert len(built.lib.album_by_name(target[0])) == 1  # not two
        await assert_settled(sim, url, built.key, the_rules, want)
    assert_no_violations(sim)


async def test_a_lost_answer_on_removing_a_member_counts_as_done() -> None:
    world = build_world()
    sim = Simulator(world.lib, metadata_delay_s=0.05)
    lost = lose_answers(sim, "DELETE /albums/{id}/user/{userId}", count=1)
    async with sim.serve() as url:
        report, _ = await run_sim(
            sim, url, world.key, RULES, retry=fast_retry(answer_timeout=HELD_TIMEOUT)
        )
        await settled(sim)
        assert lost[0] == 1
        assert report.status is RunStatus.SUCCESS, report.errors
        assert report.changes["album_user_remove"] == 1
        assert not report.failed_changes
        assert report.api.retries >= 1  # the retry was answered "Album not shared with user"
        assert_end_state(world)
        again, writes = await run_sim(sim, url, world.key, RULES)
        assert writes == 0, again.changes
    assert_no_violations(sim)


@pytest.mark.parametrize(
    "route",
    [
        "PUT /albums/{id}/assets",
        "DELETE /albums/{id}/assets",
        "PUT /tags/assets",
        "DELETE /tags/{id}/assets",
    ],
)
async def test_a_run_with_a_lost_answer_is_journaled_whole_and_undone(
    tmp_path: Path, route: str
) -> None:
    """The resend of a write whose answer was lost finds it done ("duplicate", "not_found"):
    the journal still holds every asset the run changed, so undo gives back the library."""
    world = build_world()
    before = view(world.lib)
    path = tmp_path / "journal.jsonl"
    sim = Simulator(world.lib, metadata_delay_s=0.05)
    lost = lose_answers(sim, route, count=1)
    async with sim.serve() as url:
        journal_file = JournalFile(path)
        try:
            report, _ = await run_sim(
                sim,
                url,
                world.key,
                RULES,
                journal=Journal(journal_file),
                retry=fast_retry(answer_timeout=HELD_TIMEOUT),
            )
        finally:
            journal_file.close()
        await settled(sim)
        await sim.metadata_settled()
        assert lost[0] == 1
        assert report.status is RunStatus.SUCCESS, report.errors
        assert_end_state(world)
        undone, _, _ = await undo_once(sim, url, world.key, read_journal(path))
        await sim.metadata_settled()
    assert undone.status is RunStatus.SUCCESS, undone.errors
    assert undone.skipped == [], undone.skipped
    assert differences(before, view(world.lib)) == []
    assert_no_violations(sim)
