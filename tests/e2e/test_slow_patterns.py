"""A user pattern too slow on a real album name ends the run with an error naming the rule.

The pattern passes validation (it is harmless on ordinary names); on a 6,000-character album
name it exceeds its budget. Python's `re` would backtrack for minutes holding the GIL (Home
Assistant frozen); here the run fails within the budget and the event loop keeps running.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator

from .harness import run_once

RULES = load_rules(
    """
classification:
  rules:
    - {tag_names: [autotag_input_meme]}
    - {album_name_patterns: ['(a+)+$']}
"""
)


@pytest.mark.parametrize("version", ["2.7.0", "3.2.2"])
async def test_a_pattern_too_slow_on_an_album_name_fails_the_run_naming_the_rule(
    version: str,
) -> None:
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    key = lib.add_api_key(me)
    photo = lib.add_asset(me, "DSC0001.jpg", taken=datetime(2020, 1, 1, 12))
    lib.add_album(me, "a" * 6000 + "!", [photo])
    lib.add_album(me, "aaaa", [photo])
    sim = Simulator(lib, version=version)
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        async with sim.serve() as url:
            report, _, writes = await run_once(sim, url, key, RULES)
    finally:
        ticking.cancel()
    assert report.status is RunStatus.FAILED
    assert report.error_kind is ErrorKind.INVALID_INPUT
    assert "classification.rules[1].album_name_patterns[0]" in (report.error_message or "")
    assert "too slow" in (report.error_message or "")
    assert writes == 0
    assert gaps
    assert max(gaps) < 5  # the event loop was never frozen (re would block for minutes)
