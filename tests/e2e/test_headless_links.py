"""The report's output: `--links FILE` (quick links as Markdown, the rules' inputs among
them), and a reader that stops early."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.sim.generator import generate_library, generator_key
from tests.sim.server import Simulator

from .command import ROOT, headless
from .test_engine_core import RULES, build


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


async def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """`immich-autotag --dry-run --json | head -3`: a report larger than the pipe's buffer."""
    lib = generate_library(300, seed=3)
    key = generator_key(lib)
    sim = Simulator(lib)
    async with sim.serve() as url:
        proc = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            'set -o pipefail; "$@" | head -3',
            "demo",
            sys.executable,
            "-m",
            "custom_components.immich_autotag",
            "--url",
            url,
            "--api-key",
            key,
            "--dry-run",
            "--json",
            cwd=ROOT,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.decode().count("\n") == 3
    assert "Traceback" not in err.decode()
