"""Small HTTP servers for network tests: a recorder on another origin, a redirector, a stall.

The simulator and the redirector are reached as `localhost`; the recorder as `127.0.0.1` on
its own port, so it is another origin (host and port differ) that must never see the key.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Seen:
    """One request a test server received."""

    method: str
    path: str
    headers: CIMultiDict[str]


@dataclass
class Origin:
    """A running test server (an origin): its base URL and what it received."""

    url: str
    seen: list[Seen] = field(default_factory=list)

    def keys_seen(self) -> list[str]:
        """Every `x-api-key` header it received."""
        return [s.headers["x-api-key"] for s in self.seen if "x-api-key" in s.headers]


@asynccontextmanager
async def serve(
    answer: Answer,
    *,
    url_host: str = "localhost",
) -> AsyncIterator[Origin]:
    """Serve every path with `answer` on 127.0.0.1 (random port), named `url_host` in its URL."""
    server: Origin | None = None

    async def handle(request: web.Request) -> web.StreamResponse:
        assert server is not None
        server.seen.append(Seen(request.method, request.path, CIMultiDict(request.headers)))
        return await answer(request, server)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    listening = site._server
    assert isinstance(listening, asyncio.base_events.Server)
    server = Origin(f"http://{url_host}:{listening.sockets[0].getsockname()[1]}")
    try:
        yield server
    finally:
        await runner.cleanup()


async def version_answer(_request: web.Request, _server: Origin) -> web.StreamResponse:
    """What a careless other server answers: something that looks like Immich."""
    return web.json_response({"major": 3, "minor": 0, "patch": 3})


Answer = Callable[[web.Request, "Origin"], Awaitable[web.StreamResponse]]


def redirect_to(target: str, status: int = 302) -> Answer:
    """Answer `status` with `Location: target` (`{path}` becomes the request's path)."""

    async def answer(request: web.Request, _server: Origin) -> web.StreamResponse:
        location = target.format(path=request.path_qs)
        return web.Response(status=status, headers={"Location": location})

    return answer


def closed_port() -> int:
    """A local port nobody listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
