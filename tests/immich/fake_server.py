"""A scripted Immich server over real HTTP for the client's unit tests.

Tests register answers per method and URL (`fake.get(f"{BASE}/users/me", payload=...)`), the
client talks to it through a real `aiohttp` session, and every request is recorded in arrival
order. URLs are written against `BASE` (`http://immich.local:2283/api`); the test session's
resolver maps that host name to the server's loopback address and port (`FakeResolver`), so the
client under test uses its normal URL handling, headers, timeouts and connection pool.

Answers are consumed in registration order, except `repeat=True` ones, which stay. A request
with no answer left is recorded in `unmatched` and its connection is dropped (the client sees a
disconnect); the fixture fails the test when any request went unanswered.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDictProxy
from yarl import URL

BASE = "http://immich.local:2283/api"
_NO_PAYLOAD: Any = object()


@dataclass(frozen=True)
class Sent:
    """One request as the server received it."""

    method: str
    path: str  # relative to /api
    query: dict[str, str]
    body: Any  # parsed JSON, None without a body
    headers: CIMultiDictProxy[str]


@dataclass
class Reply:
    """What the server answers.

    `payload` is sent as JSON, `body` as raw bytes (both with `content_type`). `stall` waits
    that many seconds first; `drop` closes the connection without an answer.
    """

    status: int = 200
    payload: Any = _NO_PAYLOAD
    body: bytes | None = None
    headers: dict[str, str] | None = None
    content_type: str = "application/json"
    stall: float = 0.0
    drop: bool = False


Callback = Callable[[Sent], Reply | Awaitable[Reply]]


@dataclass
class _Route:
    method: str
    url: str | re.Pattern[str]
    reply: Reply
    callback: Callback | None
    repeat: bool

    def matches(self, method: str, url: URL) -> bool:
        if method != self.method:
            return False
        if isinstance(self.url, re.Pattern):
            return self.url.match(str(url)) is not None
        want = URL(self.url)
        return want.path == url.path and sorted(want.query.items()) == sorted(url.query.items())


class FakeResolver(AbstractResolver):
    """Resolves `immich.local` (any port) to the fake server's loopback address and port."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port

    async def resolve(
        self,
        host: str,
        port: int = 0,  # noqa: ARG002  (the fake server's port is the answer)
        family: socket.AddressFamily = socket.AF_INET,  # noqa: ARG002
    ) -> list[ResolveResult]:
        if host != URL(BASE).host:
            raise OSError(f"the fake resolver knows only {URL(BASE).host}, not {host}")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self._port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        """Nothing to release."""


@dataclass
class FakeImmich:
    """The scripted server: register answers, read back `requests` after the call."""

    requests: list[Sent] = field(default_factory=list)
    unmatched: list[Sent] = field(default_factory=list)
    resolver: FakeResolver | None = None  # set while serving
    _routes: list[_Route] = field(default_factory=list)

    def add(
        self,
        url: str | re.Pattern[str],
        method: str = "GET",
        *,
        status: int = 200,
        payload: Any = _NO_PAYLOAD,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        callback: Callback | None = None,
        repeat: bool = False,
        stall: float = 0.0,
        drop: bool = False,
    ) -> None:
        """Answer the next `method url` (every one with `repeat`) as given or by `callback`."""
        reply = Reply(status, payload, body, headers, content_type, stall, drop)
        self._routes.append(_Route(method.upper(), url, reply, callback, repeat))

    def get(self, url: str | re.Pattern[str], **kwargs: Any) -> None:
        """`add(url, "GET", ...)`."""
        self.add(url, "GET", **kwargs)

    def post(self, url: str | re.Pattern[str], **kwargs: Any) -> None:
        """`add(url, "POST", ...)`."""
        self.add(url, "POST", **kwargs)

    def put(self, url: str | re.Pattern[str], **kwargs: Any) -> None:
        """`add(url, "PUT", ...)`."""
        self.add(url, "PUT", **kwargs)

    def delete(self, url: str | re.Pattern[str], **kwargs: Any) -> None:
        """`add(url, "DELETE", ...)`."""
        self.add(url, "DELETE", **kwargs)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        sent = Sent(
            request.method,
            request.path.removeprefix(URL(BASE).path),
            dict(request.query),
            orjson.loads(raw) if raw else None,
            request.headers,
        )
        logical = URL(BASE).with_path(request.path).with_query(request.query)
        route = next((r for r in self._routes if r.matches(sent.method, logical)), None)
        if route is None:
            self.unmatched.append(sent)
            return await _drop(request)
        self.requests.append(sent)
        if not route.repeat:
            self._routes.remove(route)
        reply = route.reply
        if route.callback is not None:
            answer = route.callback(sent)
            reply = await answer if inspect.isawaitable(answer) else answer
        if reply.stall:
            await asyncio.sleep(reply.stall)
        if reply.drop:
            return await _drop(request)
        return _response(reply)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeResolver]:
        """Serve on a free loopback port; yields the resolver that leads `BASE` there."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.1
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.resolver = FakeResolver("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            yield self.resolver
        finally:
            self.resolver = None
            await runner.cleanup()


def _response(reply: Reply) -> web.Response:
    if reply.status == 204:
        return web.Response(status=204, headers=reply.headers)
    data = reply.body if reply.payload is _NO_PAYLOAD else orjson.dumps(reply.payload)
    return web.Response(
        status=reply.status,
        body=data or b"",
        headers=reply.headers,
        content_type=reply.content_type,
    )


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering (the client sees a disconnect)."""
    transport = request.transport
    if transport is not None:
        transport.close()
    raise asyncio.CancelledError  # nothing may be written on a closed connection


def json_reply(payload: Any, status: int = 200) -> Reply:
    """A JSON answer (lists too) for callbacks."""
    return Reply(status=status, payload=payload)
