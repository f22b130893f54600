"""Every flag of the headless command with a bad value: exit 2, a clear message, no request.

The command runs as a cron user runs it, against a live simulator reached through `localhost`;
the simulator must see no request at all (not only no write), and the message must name the
problem without echoing a password given in the URL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.sim.server import Simulator

from .command import start
from .test_engine_core import build

ASSET = "0b0e8d3c-3a4e-4c8b-9b67-1f1d4c0c9e11"
BAD = {
    "watch nan": (["--watch", "nan"], "--watch: invalid number value: 'nan'"),
    "watch inf": (["--watch", "inf"], "--watch: invalid number value: 'inf'"),
    "settle nan": (["--watch", "5", "--settle", "nan"], "--settle: invalid number value"),
    "settle -1": (["--watch", "5", "--settle", "-1"], "--settle >= 0"),
    "rps nan": (["--max-rps", "nan"], "--max-rps: invalid number value: 'nan'"),
    "rps inf": (["--max-rps", "infinity"], "--max-rps: invalid number value"),
    "empty undo": (["--undo", " "], "--undo needs a run id, or 'last'"),
    "explain and undo": (["--explain", ASSET, "--undo", "last"], "takes no --undo or --asset-id"),
    "explain scoped": (["--explain", ASSET, "--asset-id", ASSET], "takes no --undo or --asset-id"),
    "watch and undo": (["--watch", "5", "--undo", ""], "--watch runs the rules"),
    "watch scoped": (["--watch", "5", "--asset-id", ASSET], "it takes no --asset-id"),
    "explain junk": (["--explain", "https://photos.example/albums"], "neither an asset id"),
    "settle alone": (["--settle", "5"], "--settle is how long --watch waits"),
    "concurrency 0": (["--max-concurrency", "0"], "--max-concurrency must be 1 to 64"),
    "concurrency huge": (["--max-concurrency", "100000"], "--max-concurrency must be 1 to 64"),
    "rps huge": (["--max-rps", "1e9"], "--max-rps 0 to 1000"),
}


async def command(*args: str, home: Path) -> tuple[int, str]:
    """Run the command; (exit code, stderr). Killed after 30 s (a bad value that hangs)."""
    proc = await start(*args, home=home, cache_home=True, stdout=asyncio.subprocess.DEVNULL)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, "hung"
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.mark.parametrize("name", list(BAD))
async def test_a_bad_value_exits_2_before_any_request(tmp_path: Path, name: str) -> None:
    args, words = BAD[name]
    lib, key, _ = build()
    sim = Simulator(lib)
    journal = tmp_path / "journal.jsonl"
    journal.write_text("")
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--journal", str(journal))
        code, err = await command(*base, *args, home=tmp_path)
    assert (code, sim.stats.total) == (2, 0), err
    assert words in err
    assert key not in err


@pytest.mark.parametrize("flag", ["--cache", "--links"])
async def test_a_folder_given_as_a_file_exits_2_before_any_request(
    tmp_path: Path, flag: str
) -> None:
    """Found before the run, not after it applied its changes (links) or never (the cache)."""
    lib, key, _ = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        code, err = await command(
            *("--url", url, "--api-key", key, "--no-journal", flag, str(tmp_path)), home=tmp_path
        )
    assert (code, sim.stats.total) == (2, 0), err
    assert f"{tmp_path}: is a folder, not a file" in err


@pytest.mark.parametrize(
    "url",
    ["http://me:hunter2@localhost:99999", "http://me:hunter2@localhost:2283:1/?apiKey=hunter2"],
)
async def test_a_bad_url_is_named_without_its_password(tmp_path: Path, url: str) -> None:
    code, err = await command("--url", url, "--api-key", "k3y", home=tmp_path)
    assert code == 2, err
    assert "invalid" in err
    assert "localhost" in err
    assert "hunter2" not in err
