"""`--watch SECONDS`: run, then check every SECONDS for new photos; run again once they settle.

Each check is one small request (`engine/new_assets.py`: the assets uploaded after the last
run's snapshot, on the server's clock). A run starts when that count is above zero and has not
changed for `--settle` seconds, so a batch of uploads makes one run. SIGTERM or Ctrl-C between
runs ends the command with 0; during a run they stop it as without `--watch`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator

from ..engine.new_assets import Settle, count_new_assets
from ..engine.report import RunReport
from ..immich.errors import ImmichAuthError, ImmichError, ImmichPermissionError
from ..immich.session import new_session
from .arguments import client_for
from .explain import EXIT_AUTH, EXIT_INVALID, EXIT_OK

STOPPED = 128  # and above: the run was stopped by a signal
Once = Callable[[list[RunReport]], Awaitable[int]]  # one run; appends its report


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def _count(args: argparse.Namespace, url: str, api_key: str, newest: str) -> int | None:
    async with new_session() as session:
        client = client_for(args, session, url, api_key)
        return await count_new_assets(client, newest)


async def watch(
    args: argparse.Namespace, url: str, api_key: str, once: Once, say: Callable[[str], None]
) -> int:
    """Run, wait for new photos to settle, run again; until a signal or a fatal error."""
    loop = asyncio.get_running_loop()
    settle = Settle(args.settle)
    newest = ""
    while True:
        reports: list[RunReport] = []
        code = await once(reports)
        if code >= STOPPED or code in {EXIT_INVALID, EXIT_AUTH}:
            return code
        newest = next((r.newest_update for r in reports if r.newest_update), newest)
        settle.reset()
        stop = asyncio.Event()
        with _stop_on_signals(stop):
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), args.watch)
                if stop.is_set():
                    return EXIT_OK
                try:
                    count = await _count(args, url, api_key, newest)
                except (ImmichAuthError, ImmichPermissionError) as err:
                    say(f"error: {err}")
                    return EXIT_AUTH
                except ImmichError as err:  # the server is away: ask again next time
                    say(f"watch: cannot check for new photos: {err}")
                    continue
                if count is None:  # the last run read no library: run again
                    break
                if not args.quiet:
                    say(f"watch: {count} new assets since the last run")
                if settle.observe(count, loop.time()):
                    break
