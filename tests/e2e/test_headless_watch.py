"""`--watch`: the command runs, checks for new photos with one small request, and runs again
once new uploads have settled; SIGTERM between runs ends it with 0."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from pathlib import Path

from tests.sim.server import Simulator

from .command import start
from .test_engine_core import RULES, build


async def _line(stream: asyncio.StreamReader, start: str) -> str:
    async with asyncio.timeout(60):
        while True:
            line = (await stream.readline()).decode()
            assert line, "the command ended"
            if line.startswith(start):
                return line


async def test_new_photos_start_a_run_after_they_settle(tmp_path: Path) -> None:
    lib, key, _ = build()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    sim = Simulator(lib, metadata_delay_s=0.05)
    me = lib.user_by_email("me@example.com")
    async with sim.serve() as url:
        proc = await start(
            *("--url", url, "--api-key", key, "--rules", str(rules), "--no-cache"),
            *("--journal", str(tmp_path / "j.jsonl"), "--watch", "0.2", "--settle", "0.6"),
            home=tmp_path,
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        try:
            await _line(proc.stdout, "Run ")  # the first run
            await _line(proc.stderr, "watch: 0 new assets")
            checks = sim.stats.requests["POST /search/statistics"]
            lib.tick()
            new = [
                lib.add_asset(me, f"DSC09{n}.jpg", taken=datetime(2023, 3, n + 1, 10))
                for n in range(3)
            ]
            await _line(proc.stderr, "watch: 3 new assets")
            second = await _line(proc.stdout, "Run ")
            assert "success" in second
            # each check was one small request, never a walk of the library
            assert sim.stats.requests["POST /search/statistics"] > checks
            assert all("autotag_output_unknown" in lib.asset_tags(a.id) for a in new)
            await _line(proc.stderr, "watch: 0 new assets")  # counted from the new run on
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
