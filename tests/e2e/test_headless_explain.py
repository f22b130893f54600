"""`--explain ASSET` of the headless command: text and JSON, read-only, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.sim.server import Simulator

from .command import headless
from .test_engine_core import RULES, build


async def test_explain_text_and_json_write_nothing(tmp_path: Path) -> None:
    lib, key, ids = build()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    sim = Simulator(lib)
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--rules", str(rules))
        link = f"{url}/photos/{ids['loose']}"
        code, out, err = await headless(*base, "--explain", link, "--json", home=tmp_path)
        assert code == 0, err
        data = json.loads(out)
        assert data["asset"]["id"] == ids["loose"]
        assert data["status"] == "unclassified"
        assert {c["kind"] for c in data["changes"]} == {"tag_add", "album_add"}
        code, out, err = await headless(*base, "--explain", ids["private"], home=tmp_path)
        assert code == 0, err
        assert "scope: out" in out
        assert "classification.rules[0]" in out
        assert "a run would make no change to it" in out
        code, _, err = await headless(*base, "--explain", "not-an-asset", home=tmp_path)
        assert code == 2
        assert "neither an asset id" in err
        assert sim.stats.writes == 0
