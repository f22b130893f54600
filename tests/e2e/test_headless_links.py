"""`--links FILE`: the report's quick links as Markdown, the rules' inputs among them."""

from __future__ import annotations

from pathlib import Path

from tests.sim.server import Simulator

from .test_engine_core import RULES, build
from .test_headless import headless


async def test_links_file_lists_outputs_and_the_rules_inputs(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    lib, key, _ = build()
    beach = lib.album_by_name("2024-07-15 Beach")[0]
    links = tmp_path / "out" / "links.md"
    sim = Simulator(lib)
    async with sim.serve() as url:
        args = ("--url", url, "--api-key", key, "--rules", str(rules), "--dry-run")
        code, out, err = await headless(*args, "--links", str(links), home=tmp_path)
    assert code == 0, err
    text = links.read_text()
    assert text.startswith("# Immich AutoTag: quick links\n")
    assert f"- [2024-07-15 Beach]({url}/albums/{beach.id})" in text  # an input album
    assert f"- [meme]({url}/tags?path=meme)" in text  # a conversion's input tag
    assert f"- [autotag\\_output\\_unknown]({url}/tags?path=autotag_output_unknown)" in text
    assert "## Input albums" in text
    assert "input albums:" in out  # the printed report groups them too
    assert f"2024-07-15 Beach: {url}/albums/{beach.id}" in out


async def test_an_unwritable_links_file_fails_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    lib, key, _ = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        code, _, err = await headless(
            "--url", url, "--api-key", key, "--links", str(blocker / "l.md"), home=tmp_path
        )
    assert code == 2
    assert "cannot write the links file" in err
    assert sim.stats.total == 0
