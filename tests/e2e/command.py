"""The headless command as users start it: `python -m custom_components.immich_autotag` from
the checkout, in a subprocess with its own HOME."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def start(
    *args: str, home: Path, cache_home: bool = False, stdout: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """Start the command with `args`; HOME is `home` (XDG_CACHE_HOME `home`/cache when
    `cache_home`), PATH the system's; stderr is piped."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    if cache_home:
        env["XDG_CACHE_HOME"] = str(home / "cache")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "custom_components.immich_autotag",
        *args,
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )


async def headless(*args: str, home: Path) -> tuple[int, str, str]:
    """Run `python -m custom_components.immich_autotag ARGS`; (exit code, stdout, stderr)."""
    proc = await start(*args, home=home, cache_home=True)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
