"""Requests the simulator holds until the client gives up on them (timeouts without a race).

A test that provokes a client timeout needs two things: the held request must outlast the
client's timeout, and every other request must be answered within it. The first is certain
here: a held request waits for the client to close its connection (it gave up), not for a
fixed time. The second needs a timeout far above an ordinary answer's time on a loaded test
machine, where the client and the simulator share one event loop and a slice of one core:
`HELD_TIMEOUT`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.sim.server import Handler, Simulator

# The client's answer timeout in tests whose simulator holds requests past it. An ordinary
# answer of these small libraries takes milliseconds; 1 s leaves room for a machine whose
# cores are shared by several test runs (at 0.1-0.2 s ordinary answers timed out there).
HELD_TIMEOUT = 1.0
HOLD_AT_MOST = 30.0  # a held request ends anyway (a client that never gives up fails the test)


async def client_gone(request: web.Request) -> None:
    """Return once the client has closed `request`'s connection (at most `HOLD_AT_MOST` s)."""
    async with asyncio.timeout(HOLD_AT_MOST):
        while (transport := request.transport) is not None and not transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def settled(sim: Simulator) -> None:
    """Wait until the simulator has no request in progress (held requests have finished)."""
    async with asyncio.timeout(HOLD_AT_MOST):
        while sim.stats.in_flight:  # noqa: ASYNC110 - polling the simulator's counter
            await asyncio.sleep(0.005)


def lose_answers(sim: Simulator, route: str, count: int) -> list[int]:
    """Make the server apply the first `count` requests to `route`, then answer too late.

    Installs an inner middleware (call before `sim.serve()`): the handler runs — the change is
    applied — and the answer is held until the client gave up, so the client sees a timeout
    for a request the server did apply. Returns a one-item list counting the answers lost.
    """
    lost = [0]

    @web.middleware
    async def late(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.get("route") == route and lost[0] < count:
            lost[0] += 1
            await client_gone(request)
        return response

    sim.app.middlewares.append(late)
    return lost


def stall_each_album(sim: Simulator, sends: int) -> dict[str, int]:
    """Make the first `sends` `POST /albums` of each album name hang, then drop, unapplied.

    Installs an inner middleware (call before `sim.serve()`): the request hangs until the
    client gave up and is then dropped without the album being created. Returns the stalled
    sends per album name.
    """
    stalled: dict[str, int] = {}

    @web.middleware
    async def stall(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.get("route") == "POST /albums":
            name = str((await request.json())["albumName"])
            if stalled.get(name, 0) < sends:
                stalled[name] = stalled.get(name, 0) + 1
                await client_gone(request)
                raise ConnectionResetError
        return await handler(request)

    sim.app.middlewares.append(stall)
    return stalled
