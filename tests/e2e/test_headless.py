"""The headless runner as cron users run it (README.md): output, exit codes, server fallback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .command import ROOT, headless
from .test_engine_core import RULES, build
from .test_metadata_race import drop_from_sidecar, race_library


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


async def test_json_report_dry_run_then_real_runs(tmp_path: Path, rules_file: Path) -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--rules", str(rules_file), "--json")
        code, out, err = await headless(*base, "--dry-run", home=tmp_path)
        assert code == 0, err
        dry = json.loads(out)
        assert dry["status"] == "success"
        assert dry["dry_run"] is True
        assert dry["planned_changes_total"] > 0
        assert sim.stats.writes == 0

        journal = tmp_path / "journal.jsonl"
        code, out, err = await headless(*base, "--journal", str(journal), home=tmp_path)
        assert code == 0, err
        report = json.loads(out)
        assert report["changes"]["tag_add"] >= 1
        in_flight = report["api"]["concurrency"]  # the adaptive limit during the run
        assert 1 <= in_flight["min"] <= in_flight["mean"] <= in_flight["max"] <= 32
        assert lib.asset_tags(ids["loose"]) == {"autotag_output_unknown"}
        assert "loading" in err  # progress goes to stderr
        assert journal.read_text().count("\n") > 1
        assert list((tmp_path / "cache" / "immich-autotag").glob("albums-*.json"))

        writes = sim.stats.writes
        code, out, _ = await headless(*base[:-1], home=tmp_path)  # human-readable report
        assert code == 0
        assert "changes applied: none" in out
        assert "in flight: adaptive limit" in out
        assert sim.stats.writes == writes
    assert_no_violations(sim)


async def test_predecessor_server_block_is_the_fallback(tmp_path: Path) -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        host, port = url.removeprefix("http://").split(":")
        rules = tmp_path / "config.yaml"
        rules.write_text(f"server: {{host: {host}, port: {port}, api_key: {key}}}\n{RULES}")
        code, out, err = await headless("--rules", str(rules), home=tmp_path)
    assert code == 0, err
    assert "server" in err  # the ignored-key warning
    assert key not in out + err  # the key is never printed
    assert lib.asset_tags(ids["loose"]) == {"autotag_output_unknown"}


async def test_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("classification:\n  rules:\n    - album_name_patterns: ['(']\n")
    code, _, err = await headless(
        "--url", "http://localhost:9", "--api-key", "k", "--rules", str(bad), home=tmp_path
    )
    assert code == 2
    assert "line 3" in err

    code, _, err = await headless("--api-key", "k", home=tmp_path)  # no URL, no server block
    assert code == 2

    lib = SimLibrary()
    lib.add_api_key(lib.add_user("me@example.com"))
    sim = Simulator(lib)
    async with sim.serve() as url:
        code, _, _ = await headless("--url", url, "--api-key", "wrong", home=tmp_path)
    assert code == 3


@pytest.mark.slow
async def test_cannot_connect_exit_code(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, _ = await headless(
        "--url", f"http://localhost:{port}", "--api-key", "k", home=tmp_path
    )
    assert code == 4
    assert "connection" in out


@pytest.mark.parametrize("version", ["2.7.0", "3.0.3", "3.1.0", "3.2.2"])
async def test_repairs_after_the_server_re_read_are_printed(tmp_path: Path, version: str) -> None:
    """Tags Immich resets after date writes are re-applied in the same run, and said so."""
    lib, key = race_library()
    sim = Simulator(lib, version=version, metadata_delay_s=0.2)
    dropped, sim.before_metadata_job = drop_from_sidecar("autotag_output_unknown")
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--rules", str(ROOT / "examples" / "rules.yaml"))
        code, out, err = await headless(*base, home=tmp_path)
        assert code == 0, err
        assert dropped[0] > 0
        assert f"repaired after server re-read: {dropped[0]}" in out
        code, out, err = await headless(*base, "--json", home=tmp_path)
        assert code == 0, err
        again = json.loads(out)
        assert again["changes"] == {}
        assert again["repaired_after_reread"] == 0
        assert again["api"]["writes"] == 0
    assert_no_violations(sim)
