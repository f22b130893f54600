"""`pip install .` as a cron user does it: a fresh venv, no Home Assistant, the real command.

The venv uses the oldest supported Python found on the machine (3.11 when present), installs the
checkout with pip (pinned by requirements_constraints.txt, so pip's cache serves it) and runs the
installed `immich-autotag` against the simulator reached through the host name `localhost`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from custom_components.immich_autotag.cli.version import version
from tests.sim.server import Simulator, assert_no_violations

from .test_engine_core import RULES, build

ROOT = Path(__file__).resolve().parents[2]
REQUIRES = {"aiohttp", "pyyaml", "regex", "tzdata", "voluptuous", "yarl"}

pytestmark = pytest.mark.slow


def oldest_python() -> str:
    """The oldest Python >= 3.11 on this machine (the venv's interpreter)."""
    for minor in (11, 12, 13):
        found = shutil.which(f"python3.{minor}")
        candidates = [found] if found else []
        for root in (Path.home() / ".pyenv" / "versions", Path("/root/.pyenv/versions")):
            candidates += [str(p) for p in sorted(root.glob(f"3.{minor}.*/bin/python3.{minor}"))]
        for candidate in candidates:
            if Path(candidate).is_file() and os.access(candidate, os.X_OK):
                return candidate
    return sys.executable


def constraints_for(python: str) -> Path:
    """The pins of the test stack on that Python: the newest stack's (scripts/test-latest) on 3.14+.

    The pinned stack's releases have no wheels for Python 3.14 (aiohttp would build from source).
    """
    probe = [python, "-c", "import sys; print(sys.version_info >= (3, 14))"]
    newest = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
    name = "requirements_latest.txt" if newest == "True" else "requirements_constraints.txt"
    return ROOT / name


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the checkout installed by pip; yields its bin/ folder."""
    where = tmp_path_factory.mktemp("install") / "venv"
    python = oldest_python()
    subprocess.run([python, "-m", "venv", str(where)], check=True)
    pip = subprocess.run(
        [
            str(where / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(ROOT),
            "-c",
            str(constraints_for(python)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return where / "bin"


def command(bin_dir: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed command with a clean environment (no checkout on sys.path)."""
    return subprocess.run(
        [str(bin_dir / "immich-autotag"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=home,
        env={"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin"},
        timeout=120,
    )


def test_the_venv_has_the_engine_dependencies_and_no_home_assistant(venv: Path) -> None:
    python = str(venv / "python")  # run with -I: the checkout is not on sys.path
    probe = subprocess.run(
        [python, "-I", "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "True"
    for module in ("homeassistant", "custom_components"):
        missing = subprocess.run(
            [python, "-I", "-c", f"import {module}"], capture_output=True, text=True, check=False
        )
        assert missing.returncode != 0, f"{module} is importable in the venv"
        assert "ModuleNotFoundError" in missing.stderr
    script = (
        "import importlib.metadata as m, json, re\n"
        "reqs = m.requires('immich-autotag') or []\n"
        "print(json.dumps(sorted({re.split(r'[<>=!~; \\[]', r)[0].lower() for r in reqs})))"
    )
    requires = subprocess.run(
        [python, "-I", "-c", script], capture_output=True, text=True, check=True
    )
    assert set(json.loads(requires.stdout)) == REQUIRES


def test_help_and_version(venv: Path, tmp_path: Path) -> None:
    helped = command(venv, "--help", home=tmp_path)
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: immich-autotag")
    shown = command(venv, "--version", home=tmp_path)
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"immich-autotag {version()}"
    bad = command(venv, "--max-concurrency", "0", home=tmp_path)
    assert bad.returncode == 2


async def test_installed_command_organises_the_simulator_through_localhost(
    venv: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    lib, key, ids = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        assert url.startswith("http://localhost:")
        base = ("--url", url, "--api-key", key, "--rules", str(rules), "--json")

        dry = await asyncio.to_thread(command, venv, *base, "--dry-run", home=tmp_path)
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["planned_changes_total"] > 0
        assert sim.stats.writes == 0

        real = await asyncio.to_thread(command, venv, *base, home=tmp_path)
        assert real.returncode == 0, real.stderr
        report = json.loads(real.stdout)
        assert report["status"] == "success"
        assert report["changes"]["tag_add"] >= 1
        assert lib.asset_tags(ids["loose"]) == {"autotag_output_unknown"}
        assert key not in real.stdout + real.stderr
        progress = real.stderr.splitlines()  # not a terminal: plain lines a log can keep
        assert "loading: started" in progress
        assert any(line.startswith("applying: done, ") for line in progress)
        assert "\r" not in real.stderr

        writes = sim.stats.writes
        again = await asyncio.to_thread(command, venv, *base, "--quiet", home=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stderr == ""
        assert json.loads(again.stdout)["changes"] == {}
        assert sim.stats.writes == writes

        wrong = await asyncio.to_thread(
            command, venv, "--url", url, "--api-key", "no", home=tmp_path
        )
        assert wrong.returncode == 3
    assert_no_violations(sim)
